# Dev Keycloak 26 (start-dev, H2 file database) with the banli realm, from the
# distribution zip on Maven Central. Include from the main Makefile:
#   include deploy/keycloak/keycloak.mk
#   make keycloak         start on 127.0.0.1:8080 (issuer http://127.0.0.1:8080/realms/banli),
#                         keeping data in $${BANLI_KEYCLOAK_HOME:-~/.cache/banli/keycloak}/run-8080,
#                         and print how to start Banli against it and the users for each role
#   make keycloak-stop    stop it
#   make keycloak-status  is it running?
#   make keycloak-fetch   download and prepare the dist only (cached; later runs are offline)
# KEYCLOAK_PORT=... picks another port. Dev/test credentials: deploy/keycloak/banli-realm.json.

KEYCLOAK_SH := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))/keycloak.sh
KEYCLOAK_PORT ?= 8080

.PHONY: keycloak keycloak-stop keycloak-status keycloak-fetch

# Start it, then say how to point Banli at it and who can sign in (the realm's dev users).
keycloak:
	@bash "$(KEYCLOAK_SH)" start --port $(KEYCLOAK_PORT) --keep
	@echo "Keycloak 已启动 (started): issuer http://127.0.0.1:$(KEYCLOAK_PORT)/realms/banli; 登录页为中文，可选 English"
	@echo "Banli signs people in through it when started with:"
	@echo "  BANLI_OIDC_ISSUER=http://127.0.0.1:$(KEYCLOAK_PORT)/realms/banli BANLI_OIDC_CLIENT_SECRET=banli-web-secret .venv/bin/banli serve --demo"
	@echo "then open http://127.0.0.1:8000/app/ and choose 统一身份认证登录 (sign in). Users (password <user>-pass):"
	@echo "  chen      交办单位 coordinator          zhao      督办 overseer"
	@echo "  wang      经办人 clerk, sh-ipa          li        经办人 clerk, sh-hrss"
	@echo "  qian      系统管理员 admin              zhou      数据导入 importer"
	@echo "  zhangwei  人大代表 filer (filer-00)     wangfang  政协委员 filer (filer-01)"
	@echo "  sun       no Banli role (refused)"
	@echo "Admin console: http://127.0.0.1:$(KEYCLOAK_PORT)/admin/ (admin/admin). Stop it: make keycloak-stop"

keycloak-stop:
	@bash "$(KEYCLOAK_SH)" stop --port $(KEYCLOAK_PORT)

keycloak-status:
	@bash "$(KEYCLOAK_SH)" status --port $(KEYCLOAK_PORT) || true

keycloak-fetch:
	@bash "$(KEYCLOAK_SH)" fetch
