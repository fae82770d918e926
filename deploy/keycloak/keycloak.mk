# Dev Keycloak 26 (start-dev, H2 file database) with the banli realm, from the
# distribution zip on Maven Central. Include from the main Makefile:
#   include deploy/keycloak/keycloak.mk
#   make keycloak         start on 127.0.0.1:8080 (issuer http://127.0.0.1:8080/realms/banli),
#                         keeping data in $${BANLI_KEYCLOAK_HOME:-~/.cache/banli/keycloak}/run-8080
#   make keycloak-stop    stop it
#   make keycloak-status  is it running?
#   make keycloak-fetch   download and prepare the dist only (cached; later runs are offline)
# KEYCLOAK_PORT=... picks another port. Dev/test credentials: deploy/keycloak/banli-realm.json.

KEYCLOAK_SH := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))/keycloak.sh
KEYCLOAK_PORT ?= 8080

.PHONY: keycloak keycloak-stop keycloak-status keycloak-fetch

keycloak:
	@bash "$(KEYCLOAK_SH)" start --port $(KEYCLOAK_PORT) --keep

keycloak-stop:
	@bash "$(KEYCLOAK_SH)" stop --port $(KEYCLOAK_PORT)

keycloak-status:
	@bash "$(KEYCLOAK_SH)" status --port $(KEYCLOAK_PORT) || true

keycloak-fetch:
	@bash "$(KEYCLOAK_SH)" fetch
