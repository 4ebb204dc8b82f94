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
- name: CLUSTER_NAME
  value: {{ .Values.prometheus.clusterName | quote }}
{{- if .Values.prometheus.queries }}
{{ include "metrics-ai.queriesEnv" . }}
{{- end }}
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

{{/*
The InferenceServices, as a JSON list of {name, resources, models (comma list)}: one per
enabled model, named after it, or the single combined one. The InferenceServices, their
ServingRuntimes (one each with the dashboard label) and the helm test read it.
*/}}
{{- define "metrics-ai.inferenceServices" -}}
{{- $isvcs := list -}}
{{- if .Values.combined.enabled -}}
{{- $isvcs = append $isvcs (dict "name" .Values.combined.name "resources" .Values.combined.resources "models" (include "metrics-ai.enabledModels" .)) -}}
{{- else -}}
{{- range $name := splitList "," (include "metrics-ai.enabledModels" .) -}}
{{- if $name -}}
{{- $res := (index $.Values.models $name).resources | default $.Values.predictor.resources -}}
{{- $isvcs = append $isvcs (dict "name" $name "resources" $res "models" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $isvcs -}}
{{- end -}}

{{/*
"true" when the OpenShift AI dashboard label is on the InferenceServices: the dashboard
pairs each InferenceService with a ServingRuntime of its own, so the chart then renders
one runtime per InferenceService (named after it), labelled for the dashboard too;
otherwise one shared runtime without the label.
*/}}
{{- define "metrics-ai.dashboardRuntimes" -}}
{{- if eq (get (.Values.predictor.inferenceServiceLabels | default dict) "opendatahub.io/dashboard" | toString) "true" -}}
true
{{- end -}}
{{- end -}}

{{/* The ServingRuntime an InferenceService uses. Call with (dict "root" $ "isvc" NAME). */}}
{{- define "metrics-ai.isvcRuntimeName" -}}
{{- if include "metrics-ai.dashboardRuntimes" .root -}}
{{- .isvc -}}
{{- else -}}
{{- include "metrics-ai.runtimeName" .root -}}
{{- end -}}
{{- end -}}

{{/* ---------------------------------------------------------------- model storage */}}

{{/* "true" when the models live in S3 (s3.enabled) instead of a PVC. */}}
{{- define "metrics-ai.s3" -}}
{{- if .Values.s3.enabled -}}true{{- end -}}
{{- end -}}

{{/*
"true" when the models PVC is ReadWriteOnce (no ReadWriteMany among persistence.accessModes,
which also describe an existingClaim): the training pods must then run on the node of the
(single, combined) predictor pod, and the predictor's replicas stay on that node too.
*/}}
{{- define "metrics-ai.readWriteOnce" -}}
{{- if and (not .Values.s3.enabled) (not (has "ReadWriteMany" .Values.persistence.accessModes)) -}}true{{- end -}}
{{- end -}}

{{/* Name of the S3 data connection Secret: s3.dataConnection, or the one the chart creates. */}}
{{- define "metrics-ai.s3DataConnectionName" -}}
{{- default (printf "aws-connection-%s" (include "metrics-ai.fullname" .)) .Values.s3.dataConnection -}}
{{- end -}}

{{/* storageUri of the InferenceServices: the PVC (pvc://claim/) or S3 (s3://bucket/prefix). */}}
{{- define "metrics-ai.storageUri" -}}
{{- if .Values.s3.enabled -}}
{{- trimSuffix "/" .Values.s3.uri -}}
{{- else -}}
{{- printf "pvc://%s/" (include "metrics-ai.pvcName" .) -}}
{{- end -}}
{{- end -}}

{{/*
KServe's S3 annotations (read by its storage initializer from the data connection Secret
and the predictor ServiceAccount): endpoint host without scheme, https or not, region.
*/}}
{{- define "metrics-ai.kserveS3Annotations" -}}
{{- with .Values.s3.endpoint }}
serving.kserve.io/s3-endpoint: {{ regexReplaceAll "^https?://" . "" | trimSuffix "/" | quote }}
serving.kserve.io/s3-usehttps: {{ ternary "0" "1" (hasPrefix "http://" .) | quote }}
{{- end }}
{{- with .Values.s3.region }}
serving.kserve.io/s3-region: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Pod labels of the predictors (what the NetworkPolicy, the metrics Service and affinity select). */}}
{{- define "metrics-ai.predictorPodLabels" -}}
{{ include "metrics-ai.selectorLabels" . }}
app.kubernetes.io/component: predictor
{{- end -}}

{{/*
An affinity with, on ReadWriteOnce storage, a required pod affinity to the predictor pod
(same node: kubernetes.io/hostname) added to the user's own. Call with
(dict "root" $ "affinity" .Values.x.affinity); returns YAML ("{}" when empty).
*/}}
{{- define "metrics-ai.storageAffinity" -}}
{{- $affinity := deepCopy (.affinity | default dict) -}}
{{- if include "metrics-ai.readWriteOnce" .root -}}
{{- $podAffinity := get $affinity "podAffinity" | default dict -}}
{{- $required := get $podAffinity "requiredDuringSchedulingIgnoredDuringExecution" | default list -}}
{{- $selector := dict "matchLabels" (include "metrics-ai.predictorPodLabels" .root | fromYaml) -}}
{{- $term := dict "labelSelector" $selector "topologyKey" "kubernetes.io/hostname" -}}
{{- $_ := set $podAffinity "requiredDuringSchedulingIgnoredDuringExecution" (append $required $term) -}}
{{- $_ := set $affinity "podAffinity" $podAffinity -}}
{{- end -}}
{{- toYaml $affinity -}}
{{- end -}}

{{/* ---------------------------------------------------------------- QUERIES_FILE */}}

{{- define "metrics-ai.queriesName" -}}
{{- printf "%s-queries" (include "metrics-ai.fullname" .) -}}
{{- end -}}

{{- define "metrics-ai.queriesDir" -}}
/etc/metrics-ai/queries
{{- end -}}

{{/*
QUERIES_FILE (an EnvVar list item) when prometheus.queries is set; part of
metrics-ai.prometheusEnv, so every pod that reads Prometheus gets it. Those pods also
include queriesVolumeMount and queriesVolume (list items), under the same condition.
*/}}
{{- define "metrics-ai.queriesEnv" -}}
- name: QUERIES_FILE
  value: {{ printf "%s/queries.yaml" (include "metrics-ai.queriesDir" .) | quote }}
{{- end -}}

{{/* The queries ConfigMap's volumeMount. */}}
{{- define "metrics-ai.queriesVolumeMount" -}}
- name: queries
  mountPath: {{ include "metrics-ai.queriesDir" . }}
  readOnly: true
{{- end -}}

{{/* The queries ConfigMap's volume. */}}
{{- define "metrics-ai.queriesVolume" -}}
- name: queries
  configMap:
    name: {{ include "metrics-ai.queriesName" . }}
{{- end -}}
