#!/usr/bin/perl
# `make deb` (README "Installing from the Debian package"): the package
# is built from a copy of the tree (the checkout stays as it was), holds
# the module, jwtauth.load, the annotated jwtauth.conf, the README,
# CHANGES and a changelog, carries VERSION as its version, and lintian
# finds no error in it.  The version has one source: debian/changelog is
# written from VERSION and CHANGES and refuses the two out of step.
#
# Then, as root on a machine whose apache2 package is installed, the
# package goes through a stock install: `apt-get install ./x.deb`,
# `a2enmod jwtauth`, `apache2ctl -t` (only -t: the system apache2 is
# never started; policy-rc.d denies the maintainer scripts' restart),
# `apt-get remove` (module gone, disabled), `apt-get purge` (its
# configuration gone), and /etc/apache2 and /var/lib/apache2 are left as
# they were found; an END block purges the package should a step fail.
# It skips, saying why, when it cannot (not root, no apache2, the package
# or its files already there) or when JWTAUTH_DEB_INSTALL=0.
use strict;
use warnings FATAL => 'all';
use FindBin;
use Test::More;
use File::Temp qw(tempdir);
use Fcntl qw(:flock);
use Cwd qw(abs_path);

my $top = abs_path("$FindBin::Bin/../..");
chdir $top or die "chdir $top: $!";

sub slurp {
    my ($f) = @_;
    open(my $fh, '<', $f) or die "$f: $!";
    local $/;
    return scalar <$fh>;
}

# a packaged file's text, undef when the package lacks it
sub content {
    my ($f) = @_;
    return -f $f ? slurp($f) : undef;
}

# a command's exit code and its output (stdout and stderr)
sub run {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

sub have { system("command -v $_[0] >/dev/null 2>&1") == 0 }

for my $tool (qw(dpkg-buildpackage dpkg-deb dh dh_apache2 git)) {
    plan skip_all => "$tool is missing (debhelper, apache2-dev, dpkg-dev)"
        unless have($tool);
}

my $root = $> == 0;
# lintian is a test package: installed here where we may (root), as
# `make test` installs the others
system('sh build/deps.sh lintian >/dev/null 2>&1')
    if $root && !have('lintian');

my $pkg = 'libapache2-mod-jwtauth';
my $version = slurp('VERSION');
$version =~ s/\s+\z//;
chomp(my $arch = `dpkg --print-architecture`);
my $deb = "dist/${pkg}_${version}_${arch}.deb";

# --- one source of the version -------------------------------------------

{
    my $d = tempdir('/tmp/jwtauth-deb-ver.XXXXXX', CLEANUP => 1);
    mkdir "$d/debian" or die "$d/debian: $!";
    system('cp', 'CHANGES', "$d/CHANGES") == 0 or die 'cp CHANGES';
    system('cp', 'debian/control', "$d/debian/control") == 0 or die 'cp';
    my $gen = "cd $d && perl $top/debian/gen-changelog";

    my ($rc, $out) = run($gen);
    isnt($rc, 0, 'gen-changelog: no VERSION, no changelog');

    open(my $fh, '>', "$d/VERSION") or die $!;
    print $fh "9.9.9\n";
    close($fh);
    ($rc, $out) = run($gen);
    isnt($rc, 0, 'gen-changelog: VERSION ahead of CHANGES is refused');
    like($out, qr/VERSION is 9\.9\.9 but the newest section of CHANGES is \Q$version\E/,
         'gen-changelog: ... naming both versions');

    my $changes = slurp('CHANGES');
    $changes =~ s/^(Changes with mod_jwtauth )/$1 . "9.9.9\n\n"
        . "  *) mod_jwtauth: A test entry.\n     [tester]\n\n" . $1/me;
    open($fh, '>', "$d/CHANGES") or die $!;
    print $fh $changes;
    close($fh);
    ($rc, $out) = run($gen);
    is($rc, 0, 'gen-changelog: VERSION with its CHANGES section') or diag($out);
    my @heads = $out =~ /^(\S+ \([^)]+\) \S+; urgency=\w+)$/mg;
    is_deeply(\@heads,
              ["$pkg (9.9.9) unstable; urgency=medium",
               "$pkg ($version) unstable; urgency=medium"],
              'gen-changelog: an entry per CHANGES section, newest first');
    like($out, qr/^  \* mod_jwtauth: A test entry\.\n    \[tester\]\n\n -- \S/m,
         'gen-changelog: an item becomes a bullet, continuation indented');
    if (have('dpkg-parsechangelog')) {
        open($fh, '>', "$d/changelog") or die $!;
        print $fh $out;
        close($fh);
        my $v = `dpkg-parsechangelog -l $d/changelog -S Version 2>&1`;
        chomp $v;
        is($v, '9.9.9', 'dpkg-parsechangelog reads the generated changelog');
    }
}

# --- make deb ---------------------------------------------------------------

my $status = `git status --porcelain --untracked-files=all 2>&1`;
my $t0 = time;
my ($rc, $out) = run('make -s deb');
my $took = time - $t0;
is($rc, 0, 'make deb succeeds') or diag($out);
note("make deb took $took s");
ok(-f $deb, "make deb wrote $deb");
is(`git status --porcelain --untracked-files=all 2>&1`, $status,
   'make deb leaves the checkout as it was');
BAIL_OUT("no $deb") unless -f $deb;

# the file list: every file and link, with its mode and owner
my (%mode, %owner);
for (split /\n/, `dpkg-deb -c $deb`) {
    my ($perm, $own, $path) = /^(\S+)\s+(\S+)\s+\d+\s+\S+\s+\S+\s+(\S+)/
        or next;
    next if $perm =~ /^d/;
    $path =~ s{^\./}{/};
    $path =~ s{/CHANGES\.gz$}{/CHANGES};    # dh_compress: above 4 kB
    $mode{$path} = $perm;
    $owner{$path} = $own;
}
my $doc = "/usr/share/doc/$pkg";
my @want = sort('/usr/lib/apache2/modules/mod_jwtauth.so',
                '/etc/apache2/mods-available/jwtauth.load',
                '/etc/apache2/mods-available/jwtauth.conf',
                "$doc/README.md.gz", "$doc/CHANGES", "$doc/changelog.gz",
                "$doc/copyright");
is_deeply([sort keys %mode], \@want, 'the package holds exactly these files');
is_deeply([grep { $owner{$_} ne 'root/root' } sort keys %owner], [],
          'every file is root/root');
is_deeply([grep { $mode{$_} ne '-rw-r--r--' } sort keys %mode], [],
          'every file is mode 0644');

# control fields
my %f;
for my $field (qw(Package Version Architecture Section Depends)) {
    chomp($f{$field} = `dpkg-deb -f $deb $field`);
}
is($f{Package}, $pkg, 'Package');
is($f{Version}, $version, 'Version is VERSION');
is($f{Architecture}, $arch, 'Architecture is the build machine\'s');
is($f{Section}, 'httpd', 'Section httpd');
my @deps = map { s/\s*\(.*//r } split /,\s*/, $f{Depends};
for my $re (qr/^apache2-api-\d+$/, qr/^apache2-bin$/, qr/^libjansson\d+$/,
            qr/^libssl\d/, qr/^libc6$/) {
    ok((grep { $_ =~ $re } @deps), "Depends has $re")
        or diag("Depends: $f{Depends}");
}

is_deeply([sort split /\n/, `dpkg-deb -I $deb conffiles`],
          ['/etc/apache2/mods-available/jwtauth.conf',
           '/etc/apache2/mods-available/jwtauth.load'],
          'conffiles: the two files in mods-available');
my %script = map { $_ => scalar `dpkg-deb -I $deb $_ 2>&1` }
             qw(postinst prerm postrm);
like($script{postinst}, qr/for conf in jwtauth\s*;.*apache2_invoke enmod/s,
     'postinst enables the module (dh_apache2)');
like($script{prerm}, qr/for conf in jwtauth\s*;.*apache2_invoke dismod/s,
     'prerm disables it on remove');
like($script{postrm}, qr/purge.*for conf in jwtauth\s*;.*apache2_invoke dismod/s,
     'postrm forgets it on purge');

# the contents
my $x = tempdir('/tmp/jwtauth-deb-x.XXXXXX', CLEANUP => 1);
system('dpkg-deb', '-x', $deb, $x) == 0 or die "dpkg-deb -x $deb";
my $load = content("$x/etc/apache2/mods-available/jwtauth.load");
is($load, slurp('conf/jwtauth.load'), 'jwtauth.load is conf/jwtauth.load');
is(content("$x/etc/apache2/mods-available/jwtauth.conf"),
   slurp('conf/jwtauth.conf'), 'jwtauth.conf is conf/jwtauth.conf');
my ($so) = ($load // '') =~ /^\s*LoadModule\s+jwtauth_module\s+(\S+)/m;
is($so, '/usr/lib/apache2/modules/mod_jwtauth.so',
   'LoadModule points at the packaged module');
like(`nm -D --defined-only $x/usr/lib/apache2/modules/mod_jwtauth.so`,
     qr/\bjwtauth_module\b/, 'the packaged .so exports jwtauth_module');
is(`gzip -dc $x$doc/README.md.gz`, slurp('README.md'),
   'README.md is the tree\'s');
my $chg = -e "$x$doc/CHANGES" ? content("$x$doc/CHANGES")
                              : `gzip -dc $x$doc/CHANGES.gz`;
is($chg, slurp('CHANGES'), 'CHANGES is the tree\'s');
my $changelog = `gzip -dc $x$doc/changelog.gz`;
like($changelog, qr/\A\Q$pkg ($version)\E unstable; urgency=medium\n/,
     'changelog.gz: the Debian changelog, VERSION first');
like(content("$x$doc/copyright") // '', qr/^License: Apache-2\.0$/m,
     'copyright states the license');

# lintian: no error (warnings listed)
SKIP: {
    skip 'lintian is not installed (apt-get install lintian)', 1
        unless have('lintian');
    my $lint = `lintian -I --pedantic $deb 2>&1`;
    my @tags = grep { /^[EWIPX]: / } split /\n/, $lint;
    note("lintian: $_") for @tags;
    is_deeply([grep { /^E: / } @tags], [], 'lintian reports no error');
}

# --- a stock install --------------------------------------------------------

# one run at a time on this machine, from the checks on
my $lock;
if ($root) {
    open($lock, '>', '/tmp/mod_jwtauth-deb.lock') or die "lock: $!";
    flock($lock, LOCK_EX) or die "flock: $!";
}
my $apache_status = `dpkg-query -W -f='\${Status}' apache2 2>/dev/null`;
my $pkg_status = `dpkg-query -W -f='\${Status}' $pkg 2>/dev/null`;
# the paths the package and apache2's helpers make for the module
sub ours {
    return grep { -e $_ || -l $_ }
        '/usr/lib/apache2/modules/mod_jwtauth.so',
        (map { ("/etc/apache2/mods-available/jwtauth.$_",
                "/etc/apache2/mods-enabled/jwtauth.$_") } qw(load conf)),
        glob('/var/lib/apache2/module/*/jwtauth');
}
my $prc = '/usr/sbin/policy-rc.d';
my $why =
    ($ENV{JWTAUTH_DEB_INSTALL} // '') eq '0'
        ? 'JWTAUTH_DEB_INSTALL=0'
    : !$root ? 'not root'
    : $apache_status !~ /install ok installed/
        ? 'the apache2 package is not installed'
    : !have('apt-get') ? 'no apt-get'
    : $pkg_status =~ /installed|config-files/
        ? "$pkg is already on this machine ($pkg_status): left alone"
    : ours()
        ? 'jwtauth files not from the package are in place ('
          . join(', ', ours()) . '): left alone'
    : (-e $prc && system("$prc apache2 restart >/dev/null 2>&1") >> 8 != 101)
        ? "$prc lets apache2 be restarted: the install would start it"
    : '';

my ($touched, $made_prc, %dirs_before);

# the files, links and directories under apache2's configuration and state
sub snapshot {
    my (%files, %dirs);
    my $find = "find /etc/apache2 /var/lib/apache2 -printf '%y\\t%p\\t%l\\n'";
    for (split /\n/, `$find 2>/dev/null`) {
        my ($type, $path, $target) = split /\t/, $_, 3;
        if ($type eq 'd') {
            $dirs{$path} = 1;
        }
        else {
            $target //= "";
            $files{"$type $path" . ($target ne '' ? " -> $target" : '')} = 1;
        }
    }
    return ([sort keys %files], \%dirs);
}

# purge the package if it is still there, and put back what we changed
sub restore {
    if ($touched) {
        my $st = `dpkg-query -W -f='\${Status}' $pkg 2>/dev/null`;
        system("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $pkg"
               . ' >/dev/null 2>&1') if $st =~ /installed|config-files/;
        # none of these was there before (else no install): a package
        # that leaves one behind would break the machine's apache2
        unlink ours();
        # the helpers leave empty state directories behind
        my (undef, $dirs) = snapshot();
        rmdir $_ for sort { length $b <=> length $a }
                     grep { !$dirs_before{$_} } keys %$dirs;
        $touched = 0;
    }
    if ($made_prc) {
        unlink $prc;
        $made_prc = 0;
    }
}
END { local $?; restore() }
# an interrupted run still cleans up (END runs on exit, not on a signal)
$SIG{$_} = sub { exit 1 } for qw(INT TERM HUP);

SKIP: {
    skip "install into the stock apache2: $why", 20 if $why;

    unless (-e $prc) {
        open(my $p, '>', $prc) or die "$prc: $!";
        print $p "#!/bin/sh\n# mod_jwtauth t/unit/deb.t: no service starts\n"
            . "exit 101\n";
        close($p);
        chmod 0755, $prc;
        $made_prc = 1;
    }
    my ($files_before, $dirs) = snapshot();
    %dirs_before = %$dirs;
    my $apt = 'DEBIAN_FRONTEND=noninteractive apt-get -y -q';

    $touched = 1;
    ($rc, $out) = run("$apt install ./$deb");
    is($rc, 0, "apt-get install ./$deb") or diag($out);
    like(`dpkg-query -W -f='\${Status}' $pkg 2>&1`, qr/^install ok installed$/,
         'the package is installed');
    ok(-f '/usr/lib/apache2/modules/mod_jwtauth.so', 'the module is in place');
    is(readlink('/etc/apache2/mods-enabled/jwtauth.load'),
       '../mods-available/jwtauth.load', 'the install enabled the module');

    ($rc, $out) = run('a2enmod jwtauth');
    is($rc, 0, 'a2enmod jwtauth') or diag($out);
    ($rc, $out) = run('apache2ctl -t');
    is($rc, 0, 'apache2ctl -t passes with the module') or diag($out);
    like($out, qr/Syntax OK/, 'apache2ctl -t: Syntax OK');
    like(`apache2ctl -t -D DUMP_MODULES 2>&1`, qr/^ jwtauth_module \(shared\)$/m,
         'the stock configuration loads jwtauth_module');

    ($rc, $out) = run("$apt remove $pkg");
    is($rc, 0, 'apt-get remove') or diag($out);
    like(`dpkg-query -W -f='\${Status}' $pkg 2>&1`,
         qr/^deinstall ok config-files$/, 'removed, its configuration kept');
    ok(!-e '/usr/lib/apache2/modules/mod_jwtauth.so', 'remove: module gone');
    ok(!-l '/etc/apache2/mods-enabled/jwtauth.load'
       && !-l '/etc/apache2/mods-enabled/jwtauth.conf',
       'remove: the module is disabled');
    ok(-f '/etc/apache2/mods-available/jwtauth.load'
       && -f '/etc/apache2/mods-available/jwtauth.conf',
       'remove: jwtauth.load and jwtauth.conf stay until purge');
    ($rc, $out) = run('apache2ctl -t');
    is($rc, 0, 'apache2ctl -t passes after remove') or diag($out);

    ($rc, $out) = run("$apt purge $pkg");
    is($rc, 0, 'apt-get purge') or diag($out);
    my $st = `dpkg-query -W -f='\${Status}' $pkg 2>/dev/null`;
    ok($st eq '' || $st =~ / not-installed$/, 'purged')
        or diag("status: $st");
    is_deeply([grep { -e $_ } glob('/etc/apache2/mods-available/jwtauth.*')],
              [], 'purge: jwtauth.load and jwtauth.conf gone');
    is_deeply([glob('/var/lib/apache2/module/*/jwtauth')], [],
              'purge: apache2\'s state for the module gone');
    restore();
    my ($files_after, $dirs_after) = snapshot();
    is_deeply($files_after, $files_before,
              '/etc/apache2 and /var/lib/apache2 as they were found');
    is_deeply([sort keys %$dirs_after], [sort keys %dirs_before],
              '... their directories too');
}

done_testing();
