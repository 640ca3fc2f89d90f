#!/usr/bin/perl
# t/19_headers.t: echo the request headers this CGI received (its HTTP_*
# variables, REMOTE_USER) as JSON: what a backend gets.
use strict;
use warnings;
use JSON::PP;
my %out = map { $_ => $ENV{$_} }
          grep { /^(HTTP_|REMOTE_USER$)/ } keys %ENV;
print "Content-Type: application/json\n\n";
print JSON::PP->new->canonical->encode(\%out);
