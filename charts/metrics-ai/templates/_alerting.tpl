{{/*
One alerting rule as YAML (parse it back with fromYaml). Call with a dict of
alert, expr, for, severity, summary, description (Prometheus templates, left as they
are), runbook (alerting.runbookBaseUrl; empty: no runbook_url annotation), labels (alerting.alertLabels) and optionally
reason (a label telling apart several rules of one alert). The runbook
anchor is the alert name in lower case: the heading `### MetricsAIFoo` in docs/openshift.md.
*/}}
{{- define "metrics-ai.alertRule" -}}
{{- $labels := merge (dict "severity" .severity) (deepCopy (.labels | default dict)) -}}
{{- with .reason }}{{ $_ := set $labels "reason" . }}{{ end -}}
{{- $annotations := dict "summary" .summary "description" .description -}}
{{- with .runbook }}{{ $_ := set $annotations "runbook_url" (printf "%s#%s" . (lower $.alert)) }}{{ end -}}
{{- toYaml (dict "alert" .alert "expr" .expr "for" .for "labels" $labels "annotations" $annotations) -}}
{{- end -}}

{{/* Seconds in a Prometheus duration such as 1h30m (for the checks in validate-values). */}}
{{- define "metrics-ai.durationSeconds" -}}
{{- $units := dict "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 "d" 86400.0 "w" 604800.0 "y" 31536000.0 -}}
{{- $total := 0.0 -}}
{{- range $part := regexFindAll "[0-9]+(ms|s|m|h|d|w|y)" . -1 -}}
{{- $unit := regexFind "(ms|s|m|h|d|w|y)$" $part -}}
{{- $total = addf $total (mulf (trimSuffix $unit $part | float64) (get $units $unit)) -}}
{{- end -}}
{{- $total -}}
{{- end -}}
