{{- define "coldstore.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "coldstore.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The headless Service that gives every worker its DNS name (<pod>.<this>.<namespace>.svc). */}}
{{- define "coldstore.workersService" -}}
{{- printf "%s-workers" (include "coldstore.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "coldstore.selectorLabels" -}}
app.kubernetes.io/name: {{ include "coldstore.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "coldstore.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "coldstore.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "coldstore.scheme" -}}
{{- ternary "https" "http" (and .Values.rest.tls.enabled true) -}}
{{- end -}}

{{- define "coldstore.replicas" -}}
{{- if .Values.cluster.enabled -}}{{ int .Values.cluster.replicas }}{{- else -}}1{{- end -}}
{{- end -}}

{{/*
The worker config, as the JSON file `coldstore worker --config` reads. Per-worker values
come from the pod through placeholders the worker resolves: ${env:POD_NAME} is the pod's
name (worker-0, worker-1, ...), stable across restarts as a StatefulSet's pods are.
*/}}
{{- define "coldstore.workerConfig" -}}
{{- $tlsDir := "/etc/coldstore/tls" -}}
{{- $c := dict
  "bootstrap.servers" (required "kafka.bootstrapServers is required" .Values.kafka.bootstrapServers)
  "rest.host" "0.0.0.0"
  "rest.port" (int .Values.rest.port)
  "data.dir" "/var/lib/coldstore"
  "worker.id" "${env:POD_NAME}"
  "task.shutdown.graceful.timeout.ms" (int .Values.shutdownTimeoutMs)
-}}
{{- if ne .Values.rest.auth.type "none" -}}
{{- $_ := set $c "rest.auth.type" .Values.rest.auth.type -}}
{{- if eq .Values.rest.auth.type "bearer" -}}
{{- $_ := set $c "rest.auth.token" (required "rest.auth.token is required with rest.auth.type bearer (e.g. \"${env:COLDSTORE_REST_TOKEN}\")" .Values.rest.auth.token) -}}
{{- else if eq .Values.rest.auth.type "basic" -}}
{{- $_ := set $c "rest.auth.users" (required "rest.auth.users is required with rest.auth.type basic (e.g. \"${file:/etc/coldstore/secrets/rest/users}\")" .Values.rest.auth.users) -}}
{{- else -}}
{{- fail (printf "rest.auth.type must be none, bearer or basic, not %q" .Values.rest.auth.type) -}}
{{- end -}}
{{- $_ := set $c "rest.metrics.open" .Values.metrics.open -}}
{{- end -}}
{{- if .Values.rest.tls.enabled -}}
{{- $_ := required "rest.tls.secretName is required with rest.tls.enabled" .Values.rest.tls.secretName -}}
{{- $_ := set $c "rest.tls.cert.file" (printf "%s/tls.crt" $tlsDir) -}}
{{- $_ := set $c "rest.tls.key.file" (printf "%s/tls.key" $tlsDir) -}}
{{- with .Values.rest.tls.caKey -}}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" .) -}}
{{- fail (printf "rest.tls.caKey must be a key of the Secret (letters, digits, '-', '_', '.'), not %q" .) -}}
{{- end -}}
{{- $_ := set $c "rest.tls.ca.file" (printf "%s/%s" $tlsDir .) -}}
{{- end -}}
{{- end -}}
{{- if .Values.cluster.enabled -}}
{{- $rf := int .Values.cluster.replicationFactor -}}
{{- $_ := set $c "group.id" .Values.cluster.groupId -}}
{{- $_ := set $c "config.storage.topic" .Values.cluster.configTopic -}}
{{- $_ := set $c "offset.storage.topic" .Values.cluster.offsetTopic -}}
{{- $_ := set $c "status.storage.topic" .Values.cluster.statusTopic -}}
{{- $_ := set $c "config.storage.replication.factor" $rf -}}
{{- $_ := set $c "offset.storage.replication.factor" $rf -}}
{{- $_ := set $c "status.storage.replication.factor" $rf -}}
{{- $host := printf "${env:POD_NAME}.%s.%s.svc.%s" (include "coldstore.workersService" .) .Release.Namespace .Values.clusterDomain -}}
{{- $_ := set $c "rest.advertised.url" (printf "%s://%s:%d" (include "coldstore.scheme" .) $host (int .Values.rest.port)) -}}
{{- end -}}
{{- toPrettyJson (merge (deepCopy .Values.config) $c) -}}
{{- end -}}
