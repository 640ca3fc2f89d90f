# mod_jwtauth: the JOSE core (jose/) built once into a static archive,
# linked by the module (apxs), the unit tests, the benches and - built
# again with coverage instrumentation - the fuzzers.
#
#   make          the module, .libs/mod_jwtauth.so (needs only the build
#                 packages; installs nothing)
#   make test     installs the test packages it lacks, then the whole check
#   make install  into a stock Debian apache2 (honours DESTDIR)

APXS      ?= apxs
comma     := ,
CC        ?= cc
PORT      ?= 8080

JOSE_SRC   = jose/util.c jose/alg.c jose/json.c jose/keys.c jose/sig.c \
             jose/policy.c jose/claims.c jose/jws.c jose/cache.c \
             jose/creds.c jose/keyset.c jose/digest.c
JOSE_HDR   = $(wildcard jose/*.h)
JOSE_OBJ   = $(JOSE_SRC:.c=.o)
JOSE_LIB   = jose/libjose.a
GLUE_SRC   = glue/config.c glue/startup.c glue/access.c glue/authz.c \
             glue/login.c glue/jwks.c glue/socache.c glue/metrics.c \
             glue/expr.c glue/resource.c glue/headers.c glue/session.c \
             glue/browser.c glue/keysurl.c
MOD_SRC    = mod_jwtauth.c $(GLUE_SRC)

# WERROR=1 (set by .ci/run) turns warnings into errors: the project's own
# CI asks for it, a user's newer compiler does not get it
WARN       = -Wall -Wextra -Wno-unused-parameter \
             -Wno-missing-field-initializers $(if $(WERROR),-Werror)
HIDDEN     = -fvisibility=hidden

# SANITIZE=1: module and unit tests with ASan and UBSan; the suite then
# preloads their runtimes into httpd (t/tools/httpd-wrap)
SAN_FLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
MOD_SAN    = $(if $(SANITIZE),$(addprefix -Wc$(comma),$(SAN_FLAGS)) \
             -lasan -lubsan)
JOSE_SAN   = $(if $(SANITIZE),$(SAN_FLAGS))
export JWTAUTH_WRAP = $(if $(SANITIZE),sanitize)

# evaluated when used.  The core sees APR's headers, never httpd's: a
# stray httpd include in jose/ fails the build.
APR_CFLAGS = $(shell apr-1-config --cflags --cppflags --includes)
APR_LIBS   = $(shell apr-1-config --link-ld)
CORE_LIBS  = $(JOSE_LIB) $(APR_LIBS) -ljansson -lcrypto

UNIT       = t/unit/test_core t/unit/test_creds t/unit/test_jose \
             t/unit/test_cache t/unit/test_ecdsa_der \
             t/unit/test_json t/unit/test_policy t/unit/test_robust \
             t/unit/test_claims t/unit/test_paths t/unit/test_keysets \
             t/unit/test_headers t/unit/test_keyset t/unit/test_digest \
             t/unit/test_b64_diff t/unit/test_json_diff
UNIT      += t/unit/test_header_cache

.PHONY: FORCE all build-deps deps test check unit apache-test demo-test run \
        install clean fuzz fuzz-short valgrind soak soak-short bench-core \
        bench deb

all: .libs/mod_jwtauth.so

# `make` only checks; `make test` installs
build-deps:
	@sh build/deps.sh check-build

deps:
	@sh build/deps.sh test

# rebuild when SANITIZE or WERROR changes
.build-flags: FORCE
	@echo '$(SANITIZE) $(WERROR)' | cmp -s - $@ \
	    || echo '$(SANITIZE) $(WERROR)' > $@

jose/%.o: jose/%.c $(JOSE_HDR) .build-flags | build-deps
	$(CC) -O2 -g $(CPPFLAGS) $(CFLAGS) $(WARN) $(HIDDEN) $(JOSE_SAN) -fPIC \
	    $(APR_CFLAGS) -c -o $@ $<

$(JOSE_LIB): $(JOSE_OBJ)
	rm -f $@
	ar rcs $@ $(JOSE_OBJ)

.libs/mod_jwtauth.so: $(MOD_SRC) glue/glue.h $(JOSE_LIB) .build-flags \
        | build-deps
	$(APXS) -c $(addprefix -Wc$(comma),$(WARN) $(HIDDEN)) -I. $(MOD_SAN) \
	    -o mod_jwtauth.la $(MOD_SRC) $(JOSE_LIB) -ljansson -lcrypto -lcurl

t/unit/%: t/unit/%.c t/unit/tap.h t/unit/util.h t/unit/fake_socache.h \
        t/json_oracle.h $(JOSE_LIB) | build-deps
	$(CC) $(WARN) $(JOSE_SAN) -g -O1 -Ijose $(APR_CFLAGS) -o $@ $< \
	    $(CORE_LIBS)

# the references the differential test holds the new code to
t/unit/test_json_diff: t/unit/ref/json_before.c t/unit/ref/claims_env_before.c

unit: all $(UNIT)
	prove -v --exec '' $(UNIT) t/unit/conf_guard.t t/unit/layout.t \
	    t/unit/idp.t \
	    t/unit/install.t t/unit/deb.t t/unit/policy_drop.sh

apache-test: all
	bash t/run-apache-test.sh

# libFuzzer harnesses of the core (clang, ASan, UBSan); FUZZ_SECONDS each.
# The core is compiled again for them, with coverage instrumentation.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  = -g -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB     = t/fuzz/bin/libjose.a
FUZZERS      = token claims b64url basic form json keys scan env
FUZZ_BINS    = $(addprefix t/fuzz/bin/fuzz_,$(FUZZERS))
FUZZ_DEPS    = t/fuzz/fuzz_common.h t/json_oracle.h $(FUZZ_LIB) | deps

$(FUZZ_LIB): $(JOSE_SRC) $(JOSE_HDR) | deps
	@mkdir -p t/fuzz/bin/jose
	for f in $(JOSE_SRC); do \
	    clang $(subst fuzzer$(comma),fuzzer-no-link$(comma),$(FUZZ_CFLAGS)) \
	        $(APR_CFLAGS) -c -o t/fuzz/bin/$${f%.c}.o $$f || exit 1; \
	done
	rm -f $@
	ar rcs $@ $(addprefix t/fuzz/bin/,$(JOSE_OBJ))

t/fuzz/bin/fuzz_%: t/fuzz/fuzz_%.c $(FUZZ_DEPS)
	clang $(FUZZ_CFLAGS) -Ijose $(APR_CFLAGS) -o $@ $< $(FUZZ_LIB) \
	    $(APR_LIBS) -ljansson -lcrypto

t/fuzz/bin/fuzz_basic t/fuzz/bin/fuzz_form t/fuzz/bin/fuzz_json: \
        t/fuzz/fuzz_creds.c $(FUZZ_DEPS)
	clang $(FUZZ_CFLAGS) -DFUZZ_CREDS=$(if $(findstring basic,$@),1,$(if \
	    $(findstring form,$@),2,3)) -Ijose $(APR_CFLAGS) -o $@ $< \
	    $(FUZZ_LIB) $(APR_LIBS) -ljansson -lcrypto

fuzz: $(FUZZ_BINS)
	bash t/fuzz/run.sh $(FUZZ_SECONDS)

# the short form that `make test` runs
fuzz-short: $(FUZZ_BINS)
	bash t/fuzz/run.sh 20

# load and faults on loopback: SOAK_SECONDS per phase (t/soak/run.sh)
SOAK_SECONDS ?= 60
soak: all
	bash t/soak/run.sh $(SOAK_SECONDS)
	perl t/soak/keys_rotate.pl $(SOAK_SECONDS)

soak-short: all
	bash t/soak/run.sh 5
	perl t/soak/keys_rotate.pl 10

# the core against its floor and libjwt (t/bench/run-core.sh)
t/bench/bench_core: t/bench/bench_core.c t/bench/bench_libjwt.c \
        t/bench/bench_libjwt.h $(JOSE_LIB) | deps
	sh build/deps.sh libjwt-dev valgrind
	$(CC) -O2 -g -Ijose $(APR_CFLAGS) -o $@ t/bench/bench_core.c \
	    t/bench/bench_libjwt.c $(CORE_LIBS) -ljwt

bench-core: t/bench/bench_core
	bash t/bench/run-core.sh

# many distinct tokens for the many-users rows (t/bench/run.sh)
t/bench/mint: t/bench/mint.c $(JOSE_LIB)
	$(CC) -O2 -g -Ijose $(APR_CFLAGS) -o $@ t/bench/mint.c $(CORE_LIBS)

# every Location against the unguarded file and the peers (t/bench/run.sh)
bench: all t/bench/mint
	sh build/deps.sh wrk valgrind
	bash t/bench/run.sh

# `make run` itself, end to end, on a free port
demo-test: all
	prove -v t/demo/demo.t t/demo/staged.t t/demo/browser.t

# `make test` runs `make check` where httpd's children can read the
# checkout (build/test.sh copies it under /tmp when they cannot)
test: deps
	bash build/test.sh

check: deps unit apache-test demo-test fuzz-short soak-short

# into a stock Debian apache2, then `a2enmod jwtauth`; DESTDIR stages it
# (a package build).  Installs no package.
LIBEXECDIR = $(shell $(APXS) -q LIBEXECDIR)
install: all
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)/etc/apache2/mods-available
	$(APXS) -i -S LIBEXECDIR=$(DESTDIR)$(LIBEXECDIR) -n jwtauth \
	    mod_jwtauth.la
	install -m 644 conf/jwtauth.load conf/jwtauth.conf \
	    $(DESTDIR)/etc/apache2/mods-available/

# the Debian package (debhelper, dh_apache2; debian/), built in a copy of
# the tree under dist/build so that the checkout stays clean: the tracked
# files as they are now (git stash create: edits included, without
# committing), or the whole tree outside git.  debian/changelog is written
# from VERSION and CHANGES.  Result: dist/libapache2-mod-jwtauth_<VERSION>_
# <arch>.deb.  Installs no package.
DEB_VERSION = $(shell cat VERSION)
DEB_ARCH    = $(shell dpkg --print-architecture)
DEB_FILE    = libapache2-mod-jwtauth_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_BUILD   = dist/build
DEB_SRC     = $(DEB_BUILD)/mod_jwtauth-$(DEB_VERSION)
deb:
	rm -rf $(DEB_BUILD) dist/$(DEB_FILE)
	mkdir -p $(DEB_SRC)
	if [ -e .git ]; then \
	    tree=$$(git stash create) && git archive $${tree:-HEAD} \
	        | tar -x -C $(DEB_SRC); \
	else \
	    tar -c --exclude=./dist --exclude=./.git . | tar -x -C $(DEB_SRC); \
	fi
	perl debian/gen-changelog > $(DEB_SRC)/debian/changelog
	cd $(DEB_SRC) && DEB_BUILD_OPTIONS="nocheck $(DEB_BUILD_OPTIONS)" \
	    dpkg-buildpackage -b -us -uc
	cp $(DEB_BUILD)/$(DEB_FILE) dist/
	@echo "deb: dist/$(DEB_FILE)"

run: all
	bash build/run-demo.sh $(PORT)

# the Apache::Test suite with httpd -X under valgrind memcheck (slow)
valgrind: all
	JWTAUTH_WRAP=valgrind bash t/run-apache-test.sh

clean:
	rm -rf .libs glue/.libs *.la *.lo *.slo *.o glue/*.lo glue/*.slo \
	    glue/*.o jose/*.o $(JOSE_LIB) $(UNIT) demo/run t/fuzz/bin \
	    .build-flags t/soak/run t/bench/run t/bench/bench_core t/bench/mint dist
	-[ -f t/conf/apache_test_config.pm ] && perl t/TEST -clean >/dev/null 2>&1
