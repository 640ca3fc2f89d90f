package DemoRun;
# What the `make run` tests share: start build/run-demo.sh of a checkout
# on a free loopback port, wait until it answers, and stop it by its pid.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use HTTP::Tiny;
use IO::Socket::INET;

our @EXPORT = qw(start_demo stop_demo);

# start_demo(checkout, output file or undef): (pid, base URL, HTTP::Tiny,
# answered), answered once /login gives its 401.
sub start_demo {
    my ($top, $out) = @_;
    my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => 0, Proto => 'tcp',
                                      Listen => 1) or die $!;
    my $port = $sock->sockport;
    close $sock;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', $out // '/dev/null';
        open STDERR, '>&', \*STDOUT if defined $out;
        exec 'bash', "$top/build/run-demo.sh", $port or die "exec: $!";
    }
    my $base = "http://127.0.0.1:$port";
    my $http = HTTP::Tiny->new(timeout => 5);
    my $up = 0;
    for (1 .. 100) {
        last if ($up = $http->get("$base/login")->{status} == 401);
        select undef, undef, undef, 0.2;
    }
    return ($pid, $base, $http, $up);
}

sub stop_demo {
    my ($pid) = @_;
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

1;
