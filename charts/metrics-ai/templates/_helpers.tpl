{{/*
Names, labels, images and the security settings every pod shares.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "metrics-ai.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Prefix of object names: the release name, with the chart name appended unless the
release name already contains it. Kept to 40 characters so "-train"/"-update" CronJob
names leave room for the Job suffix Kubernetes appends.
*/}}
{{- define "metrics-ai.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Chart label value. */}}
{{- define "metrics-ai.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select this release's pods (stable across upgrades). */}}
{{- define "metrics-ai.selectorLabels" -}}
app.kubernetes.io/name: {{ include "metrics-ai.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "metrics-ai.labels" -}}
helm.sh/chart: {{ include "metrics-ai.chart" . }}
{{ include "metrics-ai.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: metrics-ai
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Object names. */}}
{{- define "metrics-ai.runtimeName" -}}
{{- include "metrics-ai.fullname" . -}}
{{- end -}}

{{- define "metrics-ai.trainCronJobName" -}}
{{- printf "%s-train" (include "metrics-ai.fullname" .) -}}
{{- end -}}

{{- define "metrics-ai.updateCronJobName" -}}
{{- printf "%s-update" (include "metrics-ai.fullname" .) -}}
{{- end -}}

{{- define "metrics-ai.pvcName" -}}
{{- default (printf "%s-models" (include "metrics-ai.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{- define "metrics-ai.serviceCAName" -}}
{{- printf "%s-service-ca" (include "metrics-ai.fullname" .) -}}
{{- end -}}

{{- define "metrics-ai.trainServiceAccountName" -}}
{{- default (printf "%s-train" (include "metrics-ai.fullname" .)) .Values.serviceAccount.trainName -}}
{{- end -}}

{{- define "metrics-ai.predictorServiceAccountName" -}}
{{- default (printf "%s-predictor" (include "metrics-ai.fullname" .)) .Values.serviceAccount.predictorName -}}
{{- end -}}

{{- define "metrics-ai.alertingServiceAccountName" -}}
{{- default (printf "%s-alerting" (include "metrics-ai.fullname" .)) .Values.serviceAccount.alertingName -}}
{{- end -}}

{{/* Name of the alerting client's Deployment, Service, ServiceMonitor and NetworkPolicy. */}}
{{- define "metrics-ai.alertingName" -}}
{{- printf "%s-alerting" (include "metrics-ai.fullname" .) -}}
{{- end -}}

{{/*
The alerting client's `--predictor`: alerting.predictorUrl, else KServe's Service in front
of each InferenceService, `<name>-predictor` on port 80 in both RawDeployment and
Serverless mode: a `{model}` template (one InferenceService per model, named after it)
or the combined InferenceService's.
*/}}
{{- define "metrics-ai.alertingPredictorUrl" -}}
{{- if .Values.alerting.predictorUrl -}}
{{- .Values.alerting.predictorUrl -}}
{{- else -}}
{{- $isvc := ternary .Values.combined.name "{model}" .Values.combined.enabled -}}
{{- printf "http://%s-predictor.%s.svc.cluster.local" $isvc .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* Enabled model names, in the chart's canonical order, as a comma list. */}}
{{- define "metrics-ai.enabledModels" -}}
{{- $names := list -}}
{{- range $name := list "anomaly-detector" "node-outliers" "resource-forecast" "disk-eta" "io-crisis" -}}
{{- if (index $.Values.models $name).enabled -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- join "," $names -}}
{{- end -}}

{{/*
Image reference. Call with (dict "image" .Values.predictor.image "root" $).
A digest wins over the tag; an empty tag means the chart's appVersion.
*/}}
{{- define "metrics-ai.image" -}}
{{- $repo := printf "%s/%s" .image.registry .image.repository -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
Pod security context for OpenShift's restricted-v2 SCC: no runAsUser, runAsGroup or
fsGroup (the namespace assigns an arbitrary UID and the fsGroup), non-root, seccomp.
*/}}
{{- define "metrics-ai.podSecurityContext" -}}
runAsNonRoot: true
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security context for restricted-v2. */}}
{{- define "metrics-ai.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Where the OpenShift service CA is mounted in training (and opted-in predictor) pods. */}}
{{- define "metrics-ai.serviceCADir" -}}
/etc/metrics-ai/service-ca
{{- end -}}

{{/* Environment for reading Prometheus: URL, bearer token file and CA file. */}}
{{- define "metrics-ai.prometheusEnv" -}}
- name: PROMETHEUS_URL
  value: {{ .Values.prometheus.url | quote }}
- name: PROMETHEUS_TOKEN_FILE
  value: /var/run/secrets/kubernetes.io/serviceaccount/token
{{- if .Values.prometheus.serviceCA.enabled }}
- name: PROMETHEUS_CA_FILE
  value: {{ printf "%s/service-ca.crt" (include "metrics-ai.serviceCADir" .) | quote }}
{{- end }}
- name: CLUSTER_LABEL
  value: {{ .Values.prometheus.clusterLabel | quote }}
{{- end -}}

{{/* Writable home and caches on the /tmp emptyDir (the root filesystem is read-only). */}}
{{- define "metrics-ai.tmpEnv" -}}
- name: HOME
  value: /tmp
- name: MPLCONFIGDIR
  value: /tmp/matplotlib
- name: XDG_CACHE_HOME
  value: /tmp/.cache
{{- end -}}
