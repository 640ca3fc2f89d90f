#!/usr/bin/perl
# Echo the environment mod_jwtauth gives a CGI, as JSON.
use strict;
use warnings;
use JSON::PP;
my %out = map { $_ => $ENV{$_} }
          grep { /^(JWT_CLAIM_|REMOTE_USER$|AUTH_TYPE$|HTTP_X_USER_ID$)/ }
          keys %ENV;
print "Content-Type: application/json\n\n";
print JSON::PP->new->canonical->encode(\%out);
