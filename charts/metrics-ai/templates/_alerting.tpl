{{/*
One alerting rule as YAML (parse it back with fromYaml). Call with a dict of
alert, expr, for, severity, summary, description (Prometheus templates, left as they
are), runbook (alerting.runbookBaseUrl) and labels (alerting.alertLabels). The runbook
anchor is the alert name in lower case: the heading `### MetricsAIFoo` in docs/openshift.md.
*/}}
{{- define "metrics-ai.alertRule" -}}
{{- $labels := merge (dict "severity" .severity) (deepCopy (.labels | default dict)) -}}
{{- $annotations := dict "summary" .summary "description" .description "runbook_url" (printf "%s#%s" .runbook (lower .alert)) -}}
{{- toYaml (dict "alert" .alert "expr" .expr "for" .for "labels" $labels "annotations" $annotations) -}}
{{- end -}}
