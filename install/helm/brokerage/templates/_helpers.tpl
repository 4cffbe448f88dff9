{{/*
The templates are install/'s manifests with values substituted in a few places: with default
values they render exactly install/ (tests/helm.rs compares the parsed objects), so a change to
one must be made to the other.
*/}}

{{/*
The watched namespaces as BROKERAGE_WATCH_NAMESPACES takes them: "*" for all (an empty list, or
one containing "*", as the operator's own parsing has it), else the names joined by commas. A
string (`--set watchNamespaces=team-a`) is read as a comma-separated list.
*/}}
{{- define "brokerage.watchNamespaces" -}}
{{- $given := .Values.watchNamespaces | default list -}}
{{- if kindIs "string" $given -}}
{{- $given = splitList "," $given -}}
{{- end -}}
{{- $names := list -}}
{{- range $given -}}
{{- $name := trim (toString .) -}}
{{- if $name -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- if or (empty $names) (has "*" $names) -}}
*
{{- else -}}
{{- join "," (uniq $names) -}}
{{- end -}}
{{- end -}}

{{/*
The operator's rules, install/020-cluster-role.yaml's, in its order. `namespaced` selects those on
namespaced resources, which a Role in each watched namespace can grant; `clusterScoped` those on
cluster-scoped resources (nodes, StorageClasses), which only a ClusterRole can. Both: the
ClusterRole of install/.
*/}}
{{- define "brokerage.rules" -}}
{{- if .namespaced }}
  # The custom resources it serves, and their status.
  - apiGroups: [kafka.strimzi.io]
    resources: [kafkas, kafkanodepools, kafkatopics, kafkausers, kafkarebalances]
    verbs: [get, list, watch, patch, update]
  - apiGroups: [kafka.strimzi.io]
    resources: [kafkas/status, kafkanodepools/status, kafkatopics/status, kafkausers/status, kafkarebalances/status]
    verbs: [get, patch, update]
  - apiGroups: [rocketmq.apache.org]
    resources: [nameservices, controllers, consoles, proxys, brokers, rocketmqtopics, rocketmqusers, topictransfers]
    verbs: [get, list, watch, patch, update]
  - apiGroups: [rocketmq.apache.org]
    resources: [nameservices/status, controllers/status, consoles/status, proxys/status, brokers/status, rocketmqtopics/status, rocketmqusers/status, topictransfers/status]
    verbs: [get, patch, update]
  # What a cluster is made of.
  - apiGroups: [""]
    resources: [services, configmaps, serviceaccounts, persistentvolumeclaims]
    verbs: [get, list, watch, create, patch, update, delete]
  # Secrets it writes: the CAs, the nodes' and its own certificates, a Broker's admin
  # credentials and the users' credentials (create, patch, update; delete for one a changed
  # spec no longer wants). Secrets it reads by name: a user's own password, a listener's custom
  # certificate, a user-supplied CA (get). Its list and watch are label-selected, so a Secret
  # not labelled as a cluster's or a user's is never cached; one it did not create (by owner
  # UID) it refuses to change.
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get, list, watch, create, patch, update, delete]
  - apiGroups: [apps]
    resources: [statefulsets, deployments]
    verbs: [get, list, watch, create, patch, update, delete]
  - apiGroups: [policy]
    resources: [poddisruptionbudgets]
    verbs: [get, list, watch, create, patch, update, delete]
  - apiGroups: [networking.k8s.io]
    resources: [networkpolicies]
    verbs: [get, list, watch, create, patch, update, delete]
  # Rolling restarts delete pods one at a time and mark what each started with; readiness is
  # read from them.
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch, patch, delete]
{{- end }}
{{- if .clusterScoped }}
  # NodePort listeners advertise node addresses.
  - apiGroups: [""]
    resources: [nodes]
    verbs: [get, list, watch]
  # Volumes grow only where their StorageClass allows expansion.
  - apiGroups: [storage.k8s.io]
    resources: [storageclasses]
    verbs: [get]
{{- end }}
{{- if .namespaced }}
  - apiGroups: [events.k8s.io]
    resources: [events]
    verbs: [create, patch]
{{- end }}
{{- end -}}
