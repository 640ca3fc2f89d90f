#!/usr/bin/perl
# cycle.pl: N requests over one keep-alive connection, each carrying the
# next token of FILE (round-robin over its first TOKENS lines) in HEADER
# after PREFIX (HEADER empty: none); prints how many were answered 200.  The callgrind count
# of the many-users rows (t/bench/run.sh): ab cannot vary a header.
#   cycle.pl PORT PATH FILE HEADER PREFIX N TOKENS
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $path, $file, $header, $prefix, $n, $ntok) = @ARGV;
open my $fh, '<', $file or die "$file: $!";
my @toks;
while (my $l = <$fh>) {
    chomp $l;
    push @toks, $l;
    last if @toks >= $ntok;
}
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
    or die "connect: $!";
my $ok = 0;
for my $i (0 .. $n - 1) {
    my $t = $toks[$i % @toks];
    my $h = $header eq '' ? '' : "$header: $prefix$t\r\n";
    print $s "GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\n$h\r\n";
    my $head = '';
    while (my $line = <$s>) {
        $head .= $line;
        last if $line eq "\r\n";
    }
    my ($code) = $head =~ m{^HTTP/1\.\d (\d+)};
    my ($len) = $head =~ /^Content-Length: (\d+)/mi;
    my $body = '';
    read($s, $body, $len) if $len;
    $ok++ if defined $code && $code == 200;
}
close $s;
print "$ok\n";
