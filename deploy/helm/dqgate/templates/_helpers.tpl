{{/* Names and labels. */}}
{{- define "dqgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dqgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dqgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dqgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dqgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dqgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: gate
app.kubernetes.io/part-of: dqgate
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "dqgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dqgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dqgate.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "dqgate.configMapName" -}}
{{- default (include "dqgate.fullname" .) .Values.existingConfigMap }}
{{- end }}

{{- define "dqgate.metricsScheme" -}}
{{- if .Values.metrics.tlsSecret }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/*
The Secret keys mounted as files under /etc/dqgate/secrets: a YAML list of {secret, key,
path, option}, `path` relative to gate.yaml's directory and `option` the gate.yaml key
that names it. One list for the ConfigMap (gate.yaml) and the Deployment (volume), so
the two cannot disagree.
*/}}
{{- define "dqgate.secretFiles" -}}
{{- $files := list }}
{{- $k := .Values.kafka }}
{{- if hasPrefix "SASL_" $k.securityProtocol }}
{{- $files = append $files (dict "secret" $k.sasl.passwordSecret.name "key" $k.sasl.passwordSecret.key "path" "secrets/kafka-sasl-password" "option" "kafka.sasl_password_file") }}
{{- end }}
{{- if has $k.securityProtocol (list "SSL" "SASL_SSL") }}
{{- if $k.tls.caSecret.name }}
{{- $files = append $files (dict "secret" $k.tls.caSecret.name "key" $k.tls.caSecret.key "path" "secrets/kafka-ca.crt" "option" "kafka.ssl_cafile") }}
{{- end }}
{{- if $k.tls.clientSecret.name }}
{{- $files = append $files (dict "secret" $k.tls.clientSecret.name "key" $k.tls.clientSecret.certKey "path" "secrets/kafka-client.crt" "option" "kafka.ssl_certfile") }}
{{- $files = append $files (dict "secret" $k.tls.clientSecret.name "key" $k.tls.clientSecret.keyKey "path" "secrets/kafka-client.key" "option" "kafka.ssl_keyfile") }}
{{- end }}
{{- if $k.tls.keyPasswordSecret.name }}
{{- $files = append $files (dict "secret" $k.tls.keyPasswordSecret.name "key" $k.tls.keyPasswordSecret.key "path" "secrets/kafka-ssl-key-password" "option" "kafka.ssl_key_password_file") }}
{{- end }}
{{- end }}
{{- if .Values.metrics.tlsSecret }}
{{- $files = append $files (dict "secret" .Values.metrics.tlsSecret "key" "tls.crt" "path" "secrets/http-tls.crt" "option" "http.tls_certfile") }}
{{- $files = append $files (dict "secret" .Values.metrics.tlsSecret "key" "tls.key" "path" "secrets/http-tls.key" "option" "http.tls_keyfile") }}
{{- end }}
{{- if .Values.replayKeySecret.name }}
{{- $files = append $files (dict "secret" .Values.replayKeySecret.name "key" .Values.replayKeySecret.key "path" "secrets/replay-key" "option" "replay.key_file") }}
{{- end }}
{{- if .Values.control.enabled }}
{{- $files = append $files (dict "secret" .Values.control.tokenSecret.name "key" .Values.control.tokenSecret.key "path" "secrets/http-control-token" "option" "http.control_token_file") }}
{{- end }}
{{- toYaml $files }}
{{- end }}

{{/* Checks across values that the schema cannot express; `fail` stops the render. */}}
{{- define "dqgate.validate" -}}
{{- $k := .Values.kafka }}
{{- if hasPrefix "SASL_" $k.securityProtocol }}
{{- if or (not $k.sasl.username) (not $k.sasl.passwordSecret.name) }}
{{- fail (printf "kafka.securityProtocol %s needs kafka.sasl.username and kafka.sasl.passwordSecret.name" $k.securityProtocol) }}
{{- end }}
{{- else if $k.sasl.username }}
{{- fail (printf "kafka.sasl.username is set but kafka.securityProtocol is %s: use SASL_PLAINTEXT or SASL_SSL, or unset it" $k.securityProtocol) }}
{{- end }}
{{- if and (not (has $k.securityProtocol (list "SSL" "SASL_SSL"))) (or $k.tls.caSecret.name $k.tls.clientSecret.name $k.tls.keyPasswordSecret.name) }}
{{- fail (printf "kafka.tls secrets are set but kafka.securityProtocol is %s: use SSL or SASL_SSL, or unset them" $k.securityProtocol) }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int (ceil .Values.gate.shutdownTimeoutSeconds)) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed gate.shutdownTimeoutSeconds (%v): the pod would be killed before the worker committed" .Values.terminationGracePeriodSeconds .Values.gate.shutdownTimeoutSeconds) }}
{{- end }}
{{- range $key := list "kafka" "routes" "group_id" "shutdown_timeout_s" "metrics_address" "http" "replay" }}
{{- if hasKey $.Values.gate.config $key }}
{{- fail (printf "gate.config.%s: the chart writes this key; set it through the chart's values (see values.yaml)" $key) }}
{{- end }}
{{- end }}
{{- if not .Values.existingConfigMap }}
{{- if not .Values.routes }}
{{- fail "routes: at least one route {name, source, suite, clean, quarantine} is required" }}
{{- end }}
{{- range $i, $route := .Values.routes }}
{{- if not (hasKey $.Values.suites $route.suite) }}
{{- fail (printf "routes[%d].suite %q is not a key of suites (%s)" $i $route.suite (keys $.Values.suites | sortAlpha | join ", ")) }}
{{- end }}
{{- end }}
{{- if hasKey .Values.suites "gate.yaml" }}
{{- fail "suites: a suite may not be called gate.yaml" }}
{{- end }}
{{- end }}
{{- $partitions := .Values.sourcePartitions }}
{{- if and $partitions (not .Values.autoscaling.keda.enabled) (gt (int .Values.replicaCount) (int $partitions)) }}
{{- fail (printf "replicaCount %v exceeds sourcePartitions %v: the extra workers would get no partition" .Values.replicaCount $partitions) }}
{{- end }}
{{- if .Values.autoscaling.keda.enabled }}
{{- if not $partitions }}
{{- fail "autoscaling.keda needs sourcePartitions (the source topics' partitions): the maximum replicas are capped at it" }}
{{- end }}
{{- if gt (int .Values.autoscaling.keda.minReplicas) (int .Values.autoscaling.keda.maxReplicas) }}
{{- fail "autoscaling.keda.minReplicas exceeds autoscaling.keda.maxReplicas" }}
{{- end }}
{{- end }}
{{- if and .Values.control.enabled (or (not .Values.control.tokenSecret.name) (not .Values.metrics.tlsSecret)) }}
{{- fail "control.enabled needs control.tokenSecret.name (its bearer token) and metrics.tlsSecret (dqgate refuses the token over plain HTTP on the pod's address)" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled .Values.metrics.podMonitor.enabled }}
{{- fail "metrics.serviceMonitor and metrics.podMonitor are both enabled: Prometheus would scrape every worker twice; enable one" }}
{{- end }}
{{- end }}

{{/* gate.yaml: the chart's keys, then gate.config's. */}}
{{- define "dqgate.gateConfig" -}}
{{- $k := .Values.kafka }}
{{- $kafka := dict "bootstrap_servers" $k.bootstrapServers "security_protocol" $k.securityProtocol "client_id" $k.clientId }}
{{- if hasPrefix "SASL_" $k.securityProtocol }}
{{- $_ := set $kafka "sasl_mechanism" $k.sasl.mechanism }}
{{- $_ := set $kafka "sasl_username" $k.sasl.username }}
{{- end }}
{{- $sections := dict "kafka" $kafka "http" (dict) "replay" (dict) }}
{{- if .Values.control.enabled }}
{{- $_ := set $sections.http "control_enabled" true }}
{{- end }}
{{- range $file := include "dqgate.secretFiles" . | fromYamlArray }}
{{- $section := index (splitList "." $file.option) 0 }}
{{- $option := index (splitList "." $file.option) 1 }}
{{- $_ := set (get $sections $section) $option $file.path }}
{{- end }}
{{- $routes := list }}
{{- range $route := .Values.routes }}
{{- $r := deepCopy $route }}
{{- $_ := set $r "suite" (printf "suites/%s" $route.suite) }}
{{- $routes = append $routes $r }}
{{- end }}
{{- $gate := dict "kafka" $kafka "group_id" .Values.gate.groupId "shutdown_timeout_s" .Values.gate.shutdownTimeoutSeconds "metrics_address" (printf "0.0.0.0:%v" .Values.metrics.port) "routes" $routes }}
{{- range $name := list "http" "replay" }}
{{- if get $sections $name }}
{{- $_ := set $gate $name (get $sections $name) }}
{{- end }}
{{- end }}
{{- toYaml (merge $gate (deepCopy .Values.gate.config)) }}
{{- end }}
