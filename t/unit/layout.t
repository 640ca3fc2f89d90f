#!/usr/bin/perl
# Guard of the layout (README "Layout"): the JOSE core names no httpd
# header, its parts include each other only along the arrows below (no
# cycle), the glue reaches the core only through its headers, the .so
# exports jwtauth_module and nothing else, and the README's Layout
# section names every file of jose/ and glue/ (and no file that is gone).
use strict;
use warnings FATAL => 'all';
use FindBin;
use Test::More;

my $top = "$FindBin::Bin/../..";
sub slurp { local (@ARGV, $/) = @_; <> }

# the arrows: what each part of jose/ may include of the others
my %may = (
    util        => [],
    alg         => [],
    json        => [qw(util)],
    creds       => [qw(util)],
    digest      => [],
    keys        => [qw(alg util)],
    internal    => [qw(alg keys)],
    sig         => [qw(internal)],
    keyset      => [qw(keys util internal)],
    policy      => [qw(keys keyset internal digest)],
    claims      => [qw(json policy util)],
    jws         => [qw(alg json keys keyset policy util internal claims)],
    jws_private => [qw(jws)],
    cache       => [qw(jws policy util claims jws_private digest)],
    jose        => [qw(util alg json keys keyset policy claims jws cache
                       creds)],
);

# the private half of a part, which only that part's .c (and the parts
# whose arrows name it) include
my %private = (alg => 'internal', keys => 'internal', jws => 'jws_private');

# no cycle: a depth-first walk never meets a part it is inside of
my %state;
my $cycle = '';
sub walk {
    my ($n, @path) = @_;
    return if ($state{$n} // '') eq 'done';
    if (($state{$n} // '') eq 'open') {
        $cycle ||= join(' -> ', @path, $n);
        return;
    }
    $state{$n} = 'open';
    walk($_, @path, $n) for @{ $may{$n} || [] };
    $state{$n} = 'done';
}
walk($_) for sort keys %may;
is($cycle, '', 'the arrows between the parts of jose/ have no cycle');

my @jose = sort glob("$top/jose/*.[ch]");
ok(@jose >= 15, 'found the files of jose/ (' . scalar(@jose) . ')');
for my $f (@jose) {
    (my $name = $f) =~ s{.*/}{};
    (my $part = $name) =~ s/\.[ch]$//;
    my $src = slurp($f);
    my @inc = $src =~ /^\s*#\s*include\s+[<"]([^">]+)[">]/mg;
    my @httpd = grep { m{^(?:httpd|http_\w+|ap_\w+|mod_\w+|util_\w+|
                             scoreboard|mpm_common)\.h$}x } @inc;
    is("@httpd", '', "jose/$name includes no httpd header");
    ok(exists $may{$part}, "jose/$name belongs to a known part")
        or next;
    my %ok = map { ("$_.h" => 1) } @{ $may{$part} };
    if ($name =~ /\.c$/) {
        $ok{"$part.h"} = 1;
        $ok{"$private{$part}.h"} = 1 if $private{$part};
    }
    my @local = grep { !m{/} && !m{^(?:apr|openssl|jansson|std|string|
                       strings|errno|locale|math|stddef|stdint|stdio)}x }
                @inc;
    my @bad = grep { !$ok{$_} } @local;
    is("@bad", '', "jose/$name includes only what its arrows allow");
    if ($name =~ /\.h$/) {
        my @private = grep { /^(?:internal|jws_private)\.h$/ } @inc;
        is("@private", '', "jose/$name exposes no private header")
            unless $part =~ /^(?:internal|jws_private)$/;
    }
}

# the glue reaches the core only through jose/'s public headers
for my $f (sort glob("$top/glue/*.[ch]"), "$top/mod_jwtauth.c") {
    (my $name = $f) =~ s{.*/(glue/)?}{$1 // ''}e;
    my @inc = slurp($f) =~ /^\s*#\s*include\s+"([^"]+)"/mg;
    my @bad = grep { m{(?:^|/)(?:internal|jws_private)\.h$} || /\.c$/ }
              @inc;
    is("@bad", '', "$name includes no private core header and no .c");
}

# the .so exports jwtauth_module and nothing else
my $so = "$top/.libs/mod_jwtauth.so";
ok(-f $so, 'the module is built') or BAIL_OUT("no $so: run make");
my @defined = map { (split ' ')[-1] }
              grep { /\s[A-TV-Z]\s/ }
              split /\n/, `nm -D --defined-only "$so"`;
is("@defined", 'jwtauth_module',
   'nm -D --defined-only: the .so exports only jwtauth_module');

# the README's Layout section and the tree agree
my $readme = slurp("$top/README.md");
my ($layout) = $readme =~ /^## Layout\n(.*?)(?=^## |\z)/ms;
ok(defined $layout, 'README has a Layout section') or BAIL_OUT('no Layout');
my @tree = map { s{^\Q$top\E/}{}r }
           (glob("$top/jose/*.[ch]"), glob("$top/glue/*.[ch]"));
for my $f (sort @tree) {
    (my $base = $f) =~ s{^(?:jose|glue)/}{};
    (my $stem = $base) =~ s/\.[ch]$//;
    ok($layout =~ /`\Q$base\E`/ || $layout =~ /`\Q$stem\E\.c\/\.h`/
       || $layout =~ /`\Q$f\E`/,
       "README Layout names $f");
}
my @named = $layout =~ /`([\w\/]+\.(?:c|h))`/g;
for my $n (@named) {
    my @where = grep { -e "$top/$_" } ($n, "jose/$n", "glue/$n", "t/unit/$n");
    ok(@where, "README Layout's `$n` exists in the tree");
}
done_testing();
