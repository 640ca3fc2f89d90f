# mod_jwtauth: build with apxs, test with the core's unit tests and
# Apache::Test.  `make test` installs the Debian packages it lacks first.

APXS      ?= apxs
comma     := ,
CC        ?= cc
PORT      ?= 8080

CORE_SRC   = jwt_core.c jwt_json.c jwt_keys.c jwt_cache.c jwt_creds.c
CORE_HDR   = jwt_core.h jwt_internal.h jwt_creds.h
MOD_SRC    = mod_jwtauth.c $(CORE_SRC)
WARN       = -Wall -Wextra -Wno-unused-parameter \
             -Wno-missing-field-initializers -Werror

# SANITIZE=1: module and unit tests with ASan and UBSan; the suite then
# preloads their runtimes into httpd (t/tools/httpd-wrap)
SAN_FLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
MOD_SAN    = $(if $(SANITIZE),$(addprefix -Wc$(comma),$(SAN_FLAGS)) \
             -lasan -lubsan)
UNIT_SAN   = $(if $(SANITIZE),$(SAN_FLAGS))
export JWTAUTH_WRAP = $(if $(SANITIZE),sanitize)

# evaluated when used, i.e. after `deps` has installed the tools
APR_CFLAGS = $(shell apr-1-config --cflags --cppflags --includes)
APR_LIBS   = $(shell apr-1-config --link-ld)
CORE_LIBS  = $(APR_LIBS) -ljansson -lcrypto

UNIT       = t/unit/test_core t/unit/test_creds t/unit/test_jose t/unit/test_json

.PHONY: FORCE all deps test check unit apache-test demo-test run install clean fuzz \
        fuzz-short valgrind soak soak-short bench-core bench

all: .libs/mod_jwtauth.so

deps:
	@sh build/deps.sh

# rebuild when SANITIZE changes
.build-flags: FORCE
	@echo '$(SANITIZE)' | cmp -s - $@ || echo '$(SANITIZE)' > $@

.libs/mod_jwtauth.so: $(MOD_SRC) $(CORE_HDR) .build-flags | deps
	$(APXS) -c $(addprefix -Wc$(comma),$(WARN)) $(MOD_SAN) \
	    -o mod_jwtauth.la $(MOD_SRC) -ljansson -lcrypto


t/unit/%: t/unit/%.c t/unit/tap.h t/json_oracle.h $(CORE_SRC) $(CORE_HDR) .build-flags | deps
	$(CC) $(WARN) $(UNIT_SAN) -g -O1 -I. $(APR_CFLAGS) -o $@ $< \
	    $(CORE_SRC) $(CORE_LIBS)

unit: all $(UNIT)
	prove -v --exec '' $(UNIT) t/unit/conf_guard.t

apache-test: all
	bash t/run-apache-test.sh

# libFuzzer harnesses of the core (clang, ASan, UBSan); FUZZ_SECONDS each
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  = -g -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZERS      = token claims b64url basic form json keys scan
FUZZ_BINS    = $(addprefix t/fuzz/bin/fuzz_,$(FUZZERS))
FUZZ_DEPS    = t/fuzz/fuzz_common.h t/json_oracle.h $(CORE_SRC) $(CORE_HDR) | deps

t/fuzz/bin/fuzz_%: t/fuzz/fuzz_%.c $(FUZZ_DEPS)
	@mkdir -p t/fuzz/bin
	clang $(FUZZ_CFLAGS) -I. $(APR_CFLAGS) -o $@ $< $(CORE_SRC) $(CORE_LIBS)

t/fuzz/bin/fuzz_basic t/fuzz/bin/fuzz_form t/fuzz/bin/fuzz_json: \
        t/fuzz/fuzz_creds.c $(FUZZ_DEPS)
	@mkdir -p t/fuzz/bin
	clang $(FUZZ_CFLAGS) -DFUZZ_CREDS=$(if $(findstring basic,$@),1,$(if \
	    $(findstring form,$@),2,3)) -I. $(APR_CFLAGS) -o $@ $< \
	    $(CORE_SRC) $(CORE_LIBS)

fuzz: $(FUZZ_BINS)
	bash t/fuzz/run.sh $(FUZZ_SECONDS)

# the short form that `make test` runs
fuzz-short: $(FUZZ_BINS)
	bash t/fuzz/run.sh 20

# load and faults on loopback: SOAK_SECONDS per phase (t/soak/run.sh)
SOAK_SECONDS ?= 60
soak: all
	bash t/soak/run.sh $(SOAK_SECONDS)

soak-short: all
	bash t/soak/run.sh 5

# the core against its floor and libjwt (t/bench/run-core.sh)
t/bench/bench_core: t/bench/bench_core.c t/bench/bench_libjwt.c \
        t/bench/bench_libjwt.h $(CORE_SRC) $(CORE_HDR) | deps
	sh build/deps.sh libjwt-dev valgrind
	$(CC) -O2 -g -I. $(APR_CFLAGS) -o $@ t/bench/bench_core.c \
	    t/bench/bench_libjwt.c $(CORE_SRC) $(CORE_LIBS) -ljwt

bench-core: t/bench/bench_core
	bash t/bench/run-core.sh

# every Location against the unguarded file and the peers (t/bench/run.sh)
bench: all
	sh build/deps.sh wrk valgrind
	bash t/bench/run.sh

# `make run` itself, end to end, on a free port
demo-test: all
	prove -v t/demo/demo.t

# `make test` runs `make check` where httpd's children can read the
# checkout (build/test.sh copies it under /tmp when they cannot)
test: deps
	bash build/test.sh

check: deps unit apache-test demo-test fuzz-short soak-short

# into a stock Debian apache2: then `a2enmod jwtauth`
install: all
	$(APXS) -i -n jwtauth mod_jwtauth.la
	install -m 644 conf/jwtauth.load conf/jwtauth.conf \
	    $(DESTDIR)/etc/apache2/mods-available/

run: all
	bash build/run-demo.sh $(PORT)

# the Apache::Test suite with httpd -X under valgrind memcheck (slow)
valgrind: all
	JWTAUTH_WRAP=valgrind bash t/run-apache-test.sh

clean:
	rm -rf .libs *.la *.lo *.slo *.o $(UNIT) demo/run t/fuzz/bin .build-flags \
	    t/soak/run t/bench/run t/bench/bench_core
	-[ -f t/conf/apache_test_config.pm ] && perl t/TEST -clean >/dev/null 2>&1
