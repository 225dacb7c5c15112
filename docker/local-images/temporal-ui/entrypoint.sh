#!/bin/sh
set -eu
mkdir -p /etc/temporal-ui/config
cat > /etc/temporal-ui/config/docker.yaml <<YAML
temporalGrpcAddress: "${TEMPORAL_ADDRESS:-temporal:7233}"
host: 0.0.0.0
port: ${TEMPORAL_UI_PORT:-8080}
enableUi: true
defaultNamespace: default
publicPath:
cors:
  cookieInsecure: true
  allowOrigins: []
disableNewsFetch: true
auth:
  enabled: false
YAML
exec temporal-ui-server --root /etc/temporal-ui --config config --env docker start
