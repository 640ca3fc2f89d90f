/*
 * jose.h: the whole JOSE core of mod_jwtauth, for its tests, fuzzers and
 * benches.  The module's glue includes the one header of each concern it
 * uses instead.
 *
 * The arrows point one way:
 *   util <- alg <- keys <- keyset <- policy
 *   util <- json <- claims (and policy)
 *   keys, claims, policy <- jws <- cache
 *   util <- creds
 */
#ifndef JOSE_JOSE_H
#define JOSE_JOSE_H

#include "util.h"
#include "alg.h"
#include "json.h"
#include "keys.h"
#include "keyset.h"
#include "policy.h"
#include "claims.h"
#include "jws.h"
#include "cache.h"
#include "creds.h"

#endif /* JOSE_JOSE_H */
