# Robustness: a /login user name that is not UTF-8 is refused like any
# failed login (401) before any authn provider runs, never a 500.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use MIME::Base64 qw(encode_base64);
use File::Path qw(make_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

plan tests => 18, need_module('mod_jwtauth.c', 'mod_authn_file.c');

sub basic { 'Basic ' . encode_base64(join(':', @_), '') }

my $dir = t_dir() . '/logs/robust';
make_path($dir);
chmod 0755, $dir;

# ---- /login: user names that are not UTF-8 -------------------------
# Every row is a user of the htpasswd file with the right password: the
# name alone decides.
my $hash = `htpasswd -nbB -C 5 x 1234`;
chomp $hash;
$hash =~ s/^x://;
my @bad = (
    ["\xffdaehan", 'byte 0xff'],
    ["\xc0\xafdaehan", 'overlong "/" (c0 af)'],
    ["da\xed\xa0\x80ehan", 'surrogate U+D800 (ed a0 80)'],
    ["daehan\xf4\x90\x80\x80", 'above U+10FFFF (f4 90 80 80)'],
    ["daehan\xc3", 'truncated sequence (c3)'],
);
my $jose = "Jos\xc3\xa9";
{
    open my $fh, '>:raw', "$dir/htpasswd" or die "$dir/htpasswd: $!";
    print $fh map { "$_->[0]:$hash\n" } @bad, [$jose];
    close $fh;
    chmod 0644, "$dir/htpasswd";
}

t_start_error_log_watch();
for my $row (@bad) {
    my ($user, $what) = @$row;
    my $res = POST('/robust-login', Authorization => basic($user, '1234'));
    is($res->code, 401, "user with $what, right password: 401");
    is($res->content, 'Could not verify', "user with $what: 'Could not "
       . "verify'");
    is($res->header('WWW-Authenticate') // '', 'Basic realm="Login '
       . 'required!"', "user with $what: the Basic challenge");
}
my @log = t_finish_error_log_watch();
is(scalar(grep { /JWTAuth login: no readable credentials/ } @log),
   scalar(@bad), 'each refused as unreadable credentials, before any '
   . 'provider');

# a UTF-8 name that exists logs in, and is the token's sub
my $res = POST('/robust-login', Authorization => basic($jose, '1234'));
is($res->code, 200, 'user Jos\xc3\xa9 (UTF-8), right password: 200');
my $body = eval { json_decode($res->content) } || {};
my (undef, $payload) = split /\./, $body->{token} // '';
my $claims = eval { JSON::PP->new->utf8->decode(unb64u($payload // '')) }
    || {};
is($claims->{sub} // '', "Jos\x{e9}", 'the token\'s sub is the UTF-8 name');
