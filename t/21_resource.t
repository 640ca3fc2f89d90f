# OAuth 2.0 Protected Resource Metadata (RFC 9728): the document of
# SetHandler jwtauth-resource-metadata (JWTAuthResource, JWTAuthIssuer,
# JWTAuthScopes, jwks_uri, bearer_methods_supported), its methods, the
# resource_metadata parameter of every Bearer challenge
# (JWTAuthResourceMetadata: 401 missing, 401 invalid_token, 403
# insufficient_scope), `apache2 -t` refusing bad values, and a client
# that follows resource_metadata from a 401 to the issuer's RFC 8414
# metadata, as an MCP client does.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use JSON::PP ();
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

plan tests => 67, need_module('mod_jwtauth.c', 'mod_alias.c', 'mod_mime.c');

my $port = Apache::Test::vars('port');
my $origin = "http://127.0.0.1:$port";
my $issuer = $origin;
my $resource = "$origin/rs-mcp";
my $meta_url = "$origin/.well-known/oauth-protected-resource/rs-mcp";

# the issuer's RFC 8414 metadata (section 3: at the well-known URL of its
# origin; section 3.3: its issuer is the issuer), served as a static file
my $wk = Apache::Test::vars('documentroot') . '/.well-known';
mkdir $wk unless -d $wk;
{
    open my $fh, '>', "$wk/oauth-authorization-server" or die "$wk: $!";
    print $fh json_encode({
        issuer => $issuer,
        authorization_endpoint => "$issuer/authorize",
        token_endpoint => "$issuer/token",
        response_types_supported => ['code'],
    });
    close $fh;
    chmod 0644, "$wk/oauth-authorization-server";
}

sub mcp_token { token(iss => $issuer, aud => $resource, @_) }

# ---- the metadata document ---------------------------------------------

my $res = GET('/.well-known/oauth-protected-resource/rs-mcp');
is($res->code, 200, 'metadata: 200');
is($res->content_type, 'application/json', 'metadata: application/json');
is($res->header('Cache-Control'), 'public, max-age=300',
   'metadata: cacheable like the JWK Set');
my $doc = eval { JSON::PP->new->decode($res->content) } || {};
is($doc->{resource}, $resource, 'metadata: resource is JWTAuthResource');
is_deeply($doc->{authorization_servers}, [$issuer],
          'metadata: authorization_servers holds JWTAuthIssuer');
is_deeply($doc->{scopes_supported}, ['mcp:tools', 'mcp:read'],
          'metadata: scopes_supported is JWTAuthScopes, in order');
is_deeply($doc->{bearer_methods_supported}, ['header'],
          'metadata: bearer_methods_supported: the header only');
# the first <Location> with SetHandler jwtauth-jwks is extra.conf's /jwks
is($doc->{jwks_uri}, "$origin/jwks",
   'metadata: jwks_uri, the JWK Set Location on the resource\'s origin');
$res = GET($doc->{jwks_uri} // '/none');
is($res->content_type, 'application/jwk-set+json',
   'jwks_uri: a JWK Set is served there');
ok(@{ (eval { json_decode($res->content) } || {})->{keys} || [] } > 0,
   'jwks_uri: the set holds keys');
is(join(',', sort keys %$doc),
   'authorization_servers,bearer_methods_supported,jwks_uri,resource,'
   . 'scopes_supported', 'metadata: no other member');

# no JWTAuthIssuer or JWTAuthScopes: those members are left out; jwks_uri
# takes the origin of an https resource on another host
$res = GET('/.well-known/oauth-protected-resource/rs-bare');
my $bare = eval { JSON::PP->new->decode($res->content) } || {};
is(join(',', sort keys %$bare),
   'bearer_methods_supported,jwks_uri,resource',
   'bare metadata: no authorization_servers, no scopes_supported');
is($bare->{resource}, 'https://api.example/rs-bare',
   'bare metadata: resource');
is($bare->{jwks_uri}, 'https://api.example/jwks',
   'bare metadata: jwks_uri on the origin of JWTAuthResource');

# HEAD: the GET's headers, no body
my $get = GET('/.well-known/oauth-protected-resource/rs-mcp');
$res = HEAD('/.well-known/oauth-protected-resource/rs-mcp');
is($res->code, 200, 'HEAD: 200');
is($res->content, '', 'HEAD: no body');
is($res->header('Content-Length'), length($get->content),
   'HEAD: the Content-Length of the GET');
is($res->content_type, 'application/json', 'HEAD: application/json');

# other methods: 405 with Allow
for my $m (qw(POST PUT DELETE)) {
    my $req = HTTP::Request->new($m => "$meta_url");
    $req->content('{}') unless $m eq 'DELETE';
    $res = Apache::TestRequest::user_agent()->request($req);
    is($res->code, 405, "$m: 405");
    # httpd orders Allow as it likes, and adds TRACE
    is(join(',', sort grep { !/^(?:TRACE|OPTIONS)$/ }
                      split /\s*,\s*/, $res->header('Allow') // ''),
       'GET,HEAD', "$m: Allow: GET and HEAD");
}

# the handler without JWTAuthResource (REQUIRED, RFC 9728 section 2)
t_start_error_log_watch();
$res = GET('/rs-meta-noresource');
my @log = t_finish_error_log_watch();
is($res->code, 500, 'no JWTAuthResource: 500');
ok((grep { /jwtauth-resource-metadata: JWTAuthResource is not set in the scope of \/rs-meta-noresource/ } @log),
   'no JWTAuthResource: logged, naming the directive and the path');

# ---- the challenges (RFC 9728 section 5.1) -----------------------------

my $rm = qq{resource_metadata="$meta_url"};
my $other = jws({ alg => 'HS256', typ => 'JWT' },
                { sub => 'daehan', exp => time + 300, iss => $issuer,
                  aud => $resource }, 'k' x 32);
# [path, headers, status, challenge, what]
my @challenges = (
    ['/rs-mcp', [], 401, qq{Bearer realm="jwtauth", $rm},
     'no token: no error code, resource_metadata'],
    ['/rs-mcp', ['x-access-token' => $other], 401,
     qq{Bearer realm="jwtauth", error="invalid_token", $rm},
     'a token of another key: invalid_token, resource_metadata'],
    ['/rs-mcp', ['Authorization' => 'Bearer ' . mcp_token(exp => time - 60)],
     401, qq{Bearer realm="jwtauth", error="invalid_token", $rm},
     'an expired Bearer token: invalid_token, resource_metadata'],
    ['/rs-mcp', ['x-access-token' => mcp_token(scope => 'mcp:read')], 403,
     qq{Bearer realm="jwtauth", error="insufficient_scope", }
     . qq{scope="mcp:tools", $rm},
     'a token without mcp:tools: insufficient_scope, resource_metadata'],
    ['/rs-mcp', ['Authorization' => 'Bearer two words'], 400,
     qq{Bearer realm="jwtauth", error="invalid_request", $rm},
     'malformed Bearer credentials: invalid_request, resource_metadata'],
    ['/rs-mcp', ['x-access-token' => mcp_token(scope => 'mcp:tools')], 200,
     undef, 'a token with mcp:tools: no challenge'],
    ['/rs-inherit/in', [], 401, 'Bearer realm="jwtauth", resource_metadata='
     . '"https://api.example/.well-known/oauth-protected-resource/'
     . 'rs-inherit"', 'inherited from an enclosing Location'],
    ['/protected/hello.html', [], 401, 'Bearer realm="jwtauth"',
     'a scope without JWTAuthResourceMetadata: no resource_metadata'],
);
for my $c (@challenges) {
    my ($path, $hdrs, $want, $chal, $what) = @$c;
    $res = GET($path, @$hdrs);
    is($res->code, $want, "$what: $want");
    is($res->header('WWW-Authenticate'), $chal, "$what: the challenge");
}

# ---- a client following resource_metadata to the issuer ----------------

$res = GET($resource);
my ($found) = ($res->header('WWW-Authenticate') // '')
    =~ /\bresource_metadata="([^"]*)"/;
is($found, $meta_url, 'client: the 401 names the metadata URL');
$res = GET($found // '/none');
my $m = eval { JSON::PP->new->decode($res->content) } || {};
# RFC 9728 section 3.3: the resource must be the one the client asked for
is($m->{resource}, $resource, 'client: the metadata is of the resource '
   . 'it asked for');
my $as = ($m->{authorization_servers} || [])->[0] // '';
is($as, $issuer, 'client: authorization_servers[0] is the issuer');
# RFC 8414 section 3: the well-known URL of an issuer without a path
$res = GET("$as/.well-known/oauth-authorization-server");
is($res->code, 200, 'client: the issuer\'s RFC 8414 metadata: 200');
my $asm = eval { JSON::PP->new->decode($res->content) } || {};
is($asm->{issuer}, $as, 'client: its issuer is the one it was fetched '
   . 'for (RFC 8414 section 3.3)');
# a token from that issuer, for that resource and a scope it advertises,
# passes
my ($scope) = grep { $_ eq 'mcp:tools' } @{ $m->{scopes_supported} || [] };
$res = GET($resource, 'Authorization' => 'Bearer '
           . token(iss => $asm->{issuer} // '', aud => $m->{resource} // '',
                   scope => $scope // ''));
is($res->code, 200, 'client: a token of the issuer for the resource with '
   . 'an advertised scope passes');
is($res->content, "authz ok\n", 'client: the resource');

# ---- apache2 -t ---------------------------------------------------------

my $s64 = fixture('secret');
my $not_https = qr/is not an absolute https URL \(http only for localhost/;
my @bad = (
    ['JWTAuthResource /rs', qr/JWTAuthResource: '\/rs' $not_https/],
    ['JWTAuthResource https:api.example', qr/JWTAuthResource: .*$not_https/],
    ['JWTAuthResource http://api.example/rs',
     qr/JWTAuthResource: 'http:\/\/api\.example\/rs' $not_https/],
    ['JWTAuthResource ftp://api.example/rs', qr/JWTAuthResource: .*$not_https/],
    ['JWTAuthResource \'https://api.example/a"b\'',
     qr/JWTAuthResource: .* holds a blank, a control character, a quote/],
    ['JWTAuthResource https://api.example/rs#frag',
     qr/JWTAuthResource: .*no userinfo and no fragment/],
    ["JWTAuthResource https://api.example/\x01x",
     qr/JWTAuthResource: 'https:\/\/api\.example\/\\x01x' holds/],
    ['JWTAuthResource "https://api.example/a b"',
     qr/JWTAuthResource: .* holds a blank/],
    ['JWTAuthResource https://user@api.example/m',
     qr/JWTAuthResource: .*no userinfo/],
    ['JWTAuthResourceMetadata /.well-known/oauth-protected-resource',
     qr/JWTAuthResourceMetadata: .*$not_https/],
    ['JWTAuthResourceMetadata \'https://api.example/x",error="y\'',
     qr/JWTAuthResourceMetadata: .* holds a blank, a control character, a quote/],
    ["JWTAuthResourceMetadata https://api.example/\x01x",
     qr/JWTAuthResourceMetadata: 'https:\/\/api\.example\/\\x01x' holds/],
    ['JWTAuthResourceMetadata "https://api.example/a b"',
     qr/JWTAuthResourceMetadata: .* holds a blank/],
    ['JWTAuthResourceMetadata https://user@api.example/m',
     qr/JWTAuthResourceMetadata: .*no userinfo/],
    ['JWTAuthScopes read "wr\"ite"', qr/JWTAuthScopes: "wr"ite" is not a scope/],
    ['JWTAuthScopes "mcp tools"', qr/JWTAuthScopes: "mcp tools" is not a scope/],
    ['JWTAuthScopes', qr/JWTAuthScopes needs at least one scope/],
    ["JWTAuthResource https://api.example/mcp\n"
     . "JWTAuthResourceMetadata http://[::1]:8080/.well-known/x\n"
     . "JWTAuthResource http://localhost/mcp?v=1\nJWTAuthScopes mcp:tools",
     qr/Syntax OK/],
);
for my $b (@bad) {
    my ($line, $pat) = @$b;
    my (undef, $out) = apache_t([], "JWTAuthSecretFile $s64",
                                '<Location /x>', $line, '</Location>');
    (my $what = $line) =~ s/[\x00-\x1f]/?/g;
    like($out, $pat, "apache2 -t: $what") or diag($out);
}
