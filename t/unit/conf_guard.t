#!/usr/bin/perl
# Guard: every member of jwtauth_dir_conf is handled by the merge
# function, and every directive in the command table is documented in
# README.md and conf/jwtauth.conf.  A field added without its merge line
# would silently stop inheriting; a directive without docs is a secret.
use strict;
use warnings FATAL => 'all';
use FindBin;
use Test::More;

my $top = "$FindBin::Bin/../..";
sub slurp { local (@ARGV, $/) = @_; <> }
my $hdr = slurp("$top/glue/glue.h");
my $src = slurp("$top/glue/config.c");

my ($struct) = $hdr =~ /typedef struct \{\n((?:(?!typedef).)*?)\} jwtauth_dir_conf;/s
    or BAIL_OUT('jwtauth_dir_conf not found');
my @fields = $struct =~ /^\s+[\w\s\*]+?\**(\w+);/mg;
ok(@fields >= 10, 'found the config members (' . scalar(@fields) . ')');

my ($merge) = $src =~ /\n(?:static )?void \*merge_jwtauth_dir_config\(.*?\n\{\n(.*?)\n\}\n/s
    or BAIL_OUT('merge_jwtauth_dir_config not found');
for my $f (@fields) {
    next if $f eq 'policy';      # derived from the others by derive_policy()
    ok($merge =~ /\bconf->$f\b|MERGE_PTR\($f\)/, "merge sets $f");
}

my $readme = slurp("$top/README.md");
my $conf = slurp("$top/conf/jwtauth.conf");
my @directives = $src =~ /AP_INIT_\w+\("(\w+)"/g;
ok(@directives >= 11, 'found the directives');
for my $d (@directives) {
    ok($readme =~ /^### \Q$d\E$/m, "README documents $d");
    ok($conf =~ /^# \Q$d\E\b/m, "conf/jwtauth.conf documents $d");
}
# hygiene: MACs are compared in constant time.  The module must import
# CRYPTO_memcmp, and no plain memcmp/strcmp may touch a MAC or signature
my $core = slurp("$top/jose/sig.c");
my $nm = `nm -D --undefined-only "$top/.libs/mod_jwtauth.so" 2>/dev/null`;
ok($nm =~ /\bCRYPTO_memcmp\b/, 'the module imports CRYPTO_memcmp');
ok($core =~ /CRYPTO_memcmp\(mac, sig, siglen\)/,
   'the HMAC check compares with CRYPTO_memcmp');
ok($core !~ /\b(?:memcmp|strcmp|strncmp)\s*\(\s*(?:mac|sig)\b/,
   'no plain memcmp/strcmp on a MAC or signature');
done_testing();
