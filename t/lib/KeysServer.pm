package KeysServer;
# A private httpd for the tests that need a server of their own: remote
# key sets (t/24_keys_url.t: the identity provider must be up before
# httpd starts), server-wide settings the suite's server already has
# (t/09_cache.t, t/13_robust.t).  Each runs on a free loopback port, from
# a configuration of its own, and is stopped by pid (also from DESTROY).
#
#   my $srv = KeysServer->start(dir => $dir, name => 'a', lines => [...],
#                               children => 3);
#   options: port; children (StartServers, room for one more during a
#   graceful restart) or single => 1 (one process and never another:
#   "once per process" is then once in the log); threads (ThreadsPerChild,
#   8); modules (more mod_NAME.so to load); loglevel ('warn jwtauth:info');
#   fresh => 1 (the server's directory emptied first: its error log then
#   holds this run alone)
#   $srv->get('/api/', $token)  -> HTTP::Tiny response (Authorization:
#                                  Bearer $token when given)
#   $srv->metric('jwtauth_key_fetches_total{result="ok"}') -> number
#   $srv->log                   -> the error log so far
#   $srv->log_lines             -> the same, a list of lines
#   $srv->graceful; $srv->stop
use strict;
use warnings FATAL => 'all';
use HTTP::Tiny;
use IO::Socket::INET;
use File::Path qw(make_path remove_tree);
use Time::HiRes qw(sleep time);
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $top = abs_path(dirname(__FILE__) . '/../..');

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "no port: $!";
    return $s->sockport;
}

sub httpd {
    # under make SANITIZE=1 the module needs the runtimes preloaded
    return "$top/t/tools/httpd-wrap"
        if ($ENV{JWTAUTH_WRAP} // '') eq 'sanitize';
    chomp(my $sbin = `apxs -q SBINDIR`);
    chomp(my $prog = `apxs -q PROGNAME`);
    return "$sbin/$prog";
}

# Write the configuration of server $name under $dir: a page at /api/,
# /metrics, the given lines; children as nobody when run as root.
sub write_conf {
    my (%a) = @_;
    my ($dir, $name) = @a{qw(dir name)};
    my $root = "$dir/$name";
    remove_tree($root) if $a{fresh};
    # a page in /open, /api and the directory of every <Location>
    my @pages = ('/open', '/api',
                 map { /^<Location (\/[\w\/]*)>/ ? $1 : () } @{ $a{lines} });
    for my $d (@pages) {
        make_path("$root/htdocs$d");
        open my $fh, '>', "$root/htdocs$d/index.html" or die $!;
        print $fh "hello\n";
        close $fh;
    }
    system('chmod', '-R', 'a+rX', $root);
    chmod 0755, $dir;
    chomp(my $libexec = `apxs -q LIBEXECDIR`);
    my $port = $a{port} // free_port();
    my $n = $a{children} // 1;
    my $t = $a{threads} // 8;
    my @user = $> == 0 ? ('User nobody', 'Group nogroup') : ();
    # a fixed number of children (the one-fetcher test counts them)
    my @procs = $a{single}
        ? ('StartServers 1', 'ServerLimit 1', "ThreadsPerChild $t",
           'MinSpareThreads 1', "MaxSpareThreads $t",
           "MaxRequestWorkers $t")
        : ("StartServers $n", 'ServerLimit ' . ($n + 1),
           "ThreadsPerChild $t", "MinSpareThreads $t",
           'MaxSpareThreads ' . ($t * ($n + 1)),
           'MaxRequestWorkers ' . ($t * ($n + 1)));
    open my $fh, '>', "$root/httpd.conf" or die "$root/httpd.conf: $!";
    print $fh join "\n",
        "ServerRoot $root", 'ServerName localhost',
        "Listen 127.0.0.1:$port", "PidFile $root/httpd.pid",
        "ErrorLog $root/error_log",
        'LogLevel ' . ($a{loglevel} // 'warn jwtauth:info'),
        "DefaultRuntimeDir $root", "DocumentRoot $root/htdocs", @user,
        map({ "LoadModule ${_}_module $libexec/mod_$_.so" }
            qw(mpm_event authn_core authz_core dir), @{ $a{modules} // [] }),
        "LoadModule jwtauth_module $top/.libs/mod_jwtauth.so",
        'DirectoryIndex index.html', @procs,
        '<Location /metrics>', 'SetHandler jwtauth-metrics', '</Location>',
        @{ $a{lines} }, '';
    close $fh;
    return ($root, $port);
}

sub start {
    my ($class, %a) = @_;
    my ($root, $port) = write_conf(%a);
    my $self = bless { root => $root, port => $port, name => $a{name},
                       http => HTTP::Tiny->new(timeout => 10) }, $class;
    my $t0 = time;
    system(httpd(), '-f', "$root/httpd.conf", '-k', 'start') == 0
        or die "httpd $a{name} did not start:\n" . $self->log;
    # the poll keeps no connection open: a server of MaxConnectionsPerChild
    # 1 and ServerLimit 1 would keep its only child for it
    my $poll = HTTP::Tiny->new(timeout => 10, keep_alive => 0);
    for (1 .. 100) {
        my $r = $poll->get("http://127.0.0.1:$port/open/");
        if ($r->{status} == 200) {
            $self->{startup} = time - $t0;
            return $self;
        }
        sleep 0.1;
    }
    $self->stop;
    die "httpd $a{name} does not answer:\n" . $self->log;
}

sub startup_seconds { $_[0]{startup} }
sub root { $_[0]{root} }
sub port { $_[0]{port} }

sub pid {
    my $self = shift;
    open my $fh, '<', "$self->{root}/httpd.pid" or return;
    chomp(my $pid = <$fh> // '');
    return $pid;
}

# the child processes of the server now
sub children {
    my $self = shift;
    my $pid = $self->pid or return ();
    return grep { $_ } split /\s+/, `pgrep -P $pid`;
}

sub get {
    my ($self, $path, $token, %h) = @_;
    $h{Authorization} = "Bearer $token" if defined $token;
    my $url = "http://127.0.0.1:$self->{port}$path";
    # HTTP::Tiny refuses a Host header: a virtual host through LWP
    if ($h{Host}) {
        require LWP::UserAgent;
        my $r = LWP::UserAgent->new(timeout => 10)->get($url, %h);
        return { status => $r->code, content => $r->decoded_content,
                 headers => { map { lc($_) => scalar $r->header($_) }
                              $r->header_field_names } };
    }
    return $self->{http}->get($url, { headers => \%h });
}

sub metric {
    my ($self, $name) = @_;
    my $r = $self->get('/metrics');
    for (split /\n/, $r->{content}) {
        return $1 if /^\Q$name\E (\d+)$/;
    }
    return undef;
}

sub log {
    my $self = shift;
    open my $fh, '<', "$self->{root}/error_log" or return '';
    local $/;
    return <$fh>;
}

sub log_lines { split /^/m, $_[0]->log }

# SIGUSR1, then wait until the new generation answers
sub graceful {
    my $self = shift;
    my $pid = $self->pid or return;
    my $gen = () = $self->log =~ /resuming normal operations/g;
    kill 'USR1', $pid;
    for (1 .. 100) {
        my $now = () = $self->log =~ /resuming normal operations/g;
        return 1 if $now > $gen;
        sleep 0.1;
    }
    return 0;
}

# TERM, then KILL after 10 s: 1 when it ended on TERM, 0 when it had to
# be killed or was not running
sub stop {
    my $self = shift;
    my $pid = $self->pid or return 0;
    my $gone = 0;
    kill 'TERM', $pid;
    for (1 .. 100) {
        if (!kill 0, $pid) {
            $gone = 1;
            last;
        }
        sleep 0.1;
    }
    kill 'KILL', $pid unless $gone;
    unlink "$self->{root}/httpd.pid";
    return $gone ? 1 : 0;
}

sub DESTROY { $_[0]->stop }

1;
