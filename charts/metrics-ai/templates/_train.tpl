{{/*
Arguments of `python -m training <command>` for both CronJobs: the same output directory,
models and synthetic profile (train.profile, used by synthetic and hybrid data), so an
update reads the same entities the full retrain trained. A JSON list; call with
(dict "root" $ "command" "run") and parse with fromJsonArray.
*/}}
{{- define "metrics-ai.trainArgs" -}}
{{- list .command "--out" "/mnt/models" "--models" "all" "--profile" .root.Values.train.profile | toJson -}}
{{- end -}}

{{/*
Command of the training containers. With s3.enabled, `python -m metrics_ai.s3sync run`
pulls s3.uri into the /mnt/models emptyDir, runs the training command there (versions,
gate, rollback and pruning as on a volume), then pushes the new versions and switches
each model's manifest.json last. A JSON list; call with the root context.
*/}}
{{- define "metrics-ai.trainCommand" -}}
{{- $cmd := list "python" "-m" "training" -}}
{{- if .Values.s3.enabled -}}
{{- $cmd = concat (list "python" "-m" "metrics_ai.s3sync" "run" "--remote" (trimSuffix "/" .Values.s3.uri) "--local" "/mnt/models" "--") $cmd -}}
{{- end -}}
{{- toJson $cmd -}}
{{- end -}}

{{/*
Job template of the training CronJobs. Call with
(dict "root" $ "component" "train" "args" (list "run" ...) "deadline" 7200 "gpu" true),
optionally with "env" (a list of EnvVar only this job gets, before train.extraEnv).
"gpu" adds the nvidia.com/gpu request and the GPU tolerations when train.gpu.enabled.
*/}}
{{- define "metrics-ai.trainJobTemplate" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
metadata:
  labels:
    {{- include "metrics-ai.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  backoffLimit: {{ $v.train.backoffLimit }}
  activeDeadlineSeconds: {{ .deadline }}
  template:
    metadata:
      labels:
        {{- include "metrics-ai.selectorLabels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
      {{- with $v.commonAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      restartPolicy: Never
      serviceAccountName: {{ include "metrics-ai.trainServiceAccountName" $root }}
      # The bearer token for thanos-querier (PROMETHEUS_TOKEN_FILE); kubelet rotates it.
      automountServiceAccountToken: true
      securityContext:
        {{- include "metrics-ai.podSecurityContext" $root | nindent 8 }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.train.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- $tolerations := $v.train.tolerations | default list }}
      {{- if and .gpu $v.train.gpu.enabled }}
      {{- $tolerations = concat $tolerations ($v.train.gpu.tolerations | default list) }}
      {{- end }}
      {{- with $tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- /* ReadWriteOnce: run on the node where the predictor pod has the volume attached */}}
      {{- $affinity := include "metrics-ai.storageAffinity" (dict "root" $root "affinity" $v.train.affinity) | fromYaml }}
      {{- with $affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "metrics-ai.image" (dict "image" $v.train.image "root" $root) | quote }}
          imagePullPolicy: {{ $v.train.image.pullPolicy }}
          command:
            {{- include "metrics-ai.trainCommand" $root | fromJsonArray | toYaml | nindent 12 }}
          args:
            {{- toYaml .args | nindent 12 }}
          env:
            {{- include "metrics-ai.tmpEnv" $root | nindent 12 }}
            - name: DATA_SOURCE
              value: {{ $v.train.dataSource | quote }}
            {{- include "metrics-ai.prometheusEnv" $root | nindent 12 }}
            - name: PROMETHEUS_TIMEOUT
              value: {{ $v.prometheus.timeout | quote }}
            - name: TRAINING_DAYS
              value: {{ $v.train.trainingDays | quote }}
            - name: ANOMALY_RATE
              value: {{ $v.train.anomalyRate | quote }}
            - name: HYBRID_REAL_RATIO
              value: {{ $v.train.hybridRealRatio | quote }}
            - name: STRICT_SOURCE
              value: {{ $v.train.strictSource | quote }}
            - name: KEEP_VERSIONS
              value: {{ $v.train.keepVersions | quote }}
            - name: GATE_MARGIN
              value: {{ $v.train.gateMargin | quote }}
            - name: APPROVAL
              value: {{ $v.train.approval | quote }}
            {{- with $v.ray.address }}
            - name: RAY_ADDRESS
              value: {{ . | quote }}
            {{- end }}
            {{- with .env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- if $v.s3.enabled }}
            {{- with $v.s3.endpoint }}
            - name: AWS_S3_ENDPOINT
              value: {{ . | quote }}
            {{- end }}
            {{- with $v.s3.region }}
            - name: AWS_DEFAULT_REGION
              value: {{ . | quote }}
            {{- end }}
            {{- end }}
            {{- with $v.train.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- if $v.s3.enabled }}
          # the data connection: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and its endpoint, region)
          envFrom:
            - secretRef:
                name: {{ include "metrics-ai.s3DataConnectionName" $root }}
          {{- end }}
          securityContext:
            {{- include "metrics-ai.containerSecurityContext" $root | nindent 12 }}
          resources:
            {{- $res := deepCopy $v.train.resources }}
            {{- if and .gpu $v.train.gpu.enabled }}
            {{- $_ := set $res.requests "nvidia.com/gpu" ($v.train.gpu.count | toString) }}
            {{- $_ := set $res.limits "nvidia.com/gpu" ($v.train.gpu.count | toString) }}
            {{- end }}
            {{- toYaml $res | nindent 12 }}
          volumeMounts:
            - name: models
              mountPath: /mnt/models
            - name: tmp
              mountPath: /tmp
            {{- if $v.prometheus.serviceCA.enabled }}
            - name: service-ca
              mountPath: {{ include "metrics-ai.serviceCADir" $root }}
              readOnly: true
            {{- end }}
            {{- if $v.prometheus.queries }}
            {{- include "metrics-ai.queriesVolumeMount" $root | nindent 12 }}
            {{- end }}
      volumes:
        - name: models
          {{- if $v.s3.enabled }}
          emptyDir:
            sizeLimit: {{ $v.s3.workDirSizeLimit }}
          {{- else }}
          persistentVolumeClaim:
            claimName: {{ include "metrics-ai.pvcName" $root }}
          {{- end }}
        - name: tmp
          emptyDir:
            sizeLimit: {{ $v.train.tmpSizeLimit }}
        {{- if $v.prometheus.serviceCA.enabled }}
        - name: service-ca
          configMap:
            name: {{ include "metrics-ai.serviceCAName" $root }}
        {{- end }}
        {{- if $v.prometheus.queries }}
        {{- include "metrics-ai.queriesVolume" $root | nindent 8 }}
        {{- end }}
{{- end -}}
