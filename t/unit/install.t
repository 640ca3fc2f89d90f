#!/usr/bin/perl
# `make install` as a packager runs it: DESTDIR stages everything (the
# module and conf/ into the tree Debian's apache2 reads), nothing lands
# outside DESTDIR, and neither `make` nor `make install` installs a
# package (only `make test` / `make check` may).
use strict;
use warnings FATAL => 'all';
use FindBin;
use Test::More;
use File::Temp qw(tempdir);

my $top = "$FindBin::Bin/../..";
chdir $top or die "chdir: $!";
my $libexec = `apxs -q LIBEXECDIR`;
chomp $libexec;

for my $target (qw(all install)) {
    my $plan = `make -n $target DESTDIR=/nonexistent 2>&1`;
    unlike($plan, qr/apt-get|deps\.sh(?! check-build)/,
           "make -n $target: installs no package");
}

my $dest = tempdir('/tmp/jwtauth-destdir.XXXXXX', CLEANUP => 1);
my $before = -e "$libexec/mod_jwtauth.so" ? (stat _)[9] : 'absent';
my $out = `make -s install DESTDIR=$dest 2>&1`;
is($?, 0, 'make install DESTDIR=... succeeds') or diag($out);
my @got = sort map { s{^\Q$dest\E}{}r }
          split /\n/, `find $dest -type f -o -type l`;
is_deeply(\@got, [sort("$libexec/mod_jwtauth.so",
                       '/etc/apache2/mods-available/jwtauth.conf',
                       '/etc/apache2/mods-available/jwtauth.load')],
          'DESTDIR holds the module and conf/, nothing else');
my $after = -e "$libexec/mod_jwtauth.so" ? (stat _)[9] : 'absent';
is($after, $before, "nothing written to the live $libexec");
done_testing();
