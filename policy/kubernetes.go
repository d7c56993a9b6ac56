package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/personalization/platform/graph"
)

const (
	deployment  = "kubernetes:apps/v1:Deployment"
	rollout     = "kubernetes:argoproj.io/v1alpha1:Rollout"
	cronJob     = "kubernetes:batch/v1:CronJob"
	pdbType     = "kubernetes:policy/v1:PodDisruptionBudget"
	hpaType     = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
	netpolType  = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	serviceType = "kubernetes:core/v1:Service"
)

// workloads are the types whose pod templates the pod rules read; an Argo
// Rollout is a workload like a Deployment.
var workloads = []string{deployment, rollout, cronJob}

// replicated are the workloads that run replicas behind a Service.
var replicated = []string{deployment, rollout}

func podSpec(r *graph.Resource) map[string]any {
	path := "spec.template.spec"
	if r.Type == cronJob {
		path = "spec.jobTemplate.spec.template.spec"
	}
	m, _ := value(r, path).(map[string]any)
	return m
}

func podLabels(r *graph.Resource) map[string]any {
	path := "spec.template.metadata.labels"
	if r.Type == cronJob {
		path = "spec.jobTemplate.spec.template.metadata.labels"
	}
	m, _ := value(r, path).(map[string]any)
	return m
}

func containers(spec map[string]any) []map[string]any {
	var out []map[string]any
	for _, key := range []string{"initContainers", "containers"} {
		l, _ := spec[key].([]any)
		for _, c := range l {
			if m, ok := c.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

func sub(m map[string]any, path string) any {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

// eachContainer fails with the first container for which bad says what is
// wrong, given the pod's spec.
func eachContainer(r *graph.Resource, bad func(pod, c map[string]any) string) string {
	spec := podSpec(r)
	if spec == nil {
		return "no pod template"
	}
	for _, c := range containers(spec) {
		if msg := bad(spec, c); msg != "" {
			return fmt.Sprintf("container %v: %s", c["name"], msg)
		}
	}
	return ""
}

// podOrContainer reads a security setting from the container, falling back
// to the pod's security context.
func podOrContainer(pod, c map[string]any, field string) any {
	if v := sub(c, "securityContext."+field); v != nil {
		return v
	}
	return sub(pod, "securityContext."+field)
}

// selects says whether a label selector ({"matchLabels": …} or a plain
// map, as a Service has) selects labels.
func selects(selector any, labels map[string]any) bool {
	m, _ := selector.(map[string]any)
	if ml, ok := m["matchLabels"].(map[string]any); ok || len(m) == 0 {
		m = ml
	}
	for k, v := range m {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func namespaceOf(r *graph.Resource) string {
	if ns := str(r, "metadata.namespace"); ns != "" {
		return ns
	}
	return "default"
}

// sameNamespace returns the resources of types in r's namespace.
func sameNamespace(c *Context, r *graph.Resource, types ...string) []*graph.Resource {
	var out []*graph.Resource
	for _, t := range types {
		for _, o := range c.Graph.OfType(t) {
			if namespaceOf(o) == namespaceOf(r) {
				out = append(out, o)
			}
		}
	}
	return out
}

// hpaFor returns the HPA scaling the workload, or nil.
func hpaFor(c *Context, w *graph.Resource) *graph.Resource {
	for _, h := range sameNamespace(c, w, hpaType) {
		if str(h, "spec.scaleTargetRef.name") == str(w, "metadata.name") && str(h, "spec.scaleTargetRef.kind") == str(w, "kind") {
			return h
		}
	}
	return nil
}

func pdbsFor(c *Context, w *graph.Resource) []*graph.Resource {
	var out []*graph.Resource
	for _, p := range sameNamespace(c, w, pdbType) {
		if value(p, "spec.selector") != nil && selects(value(p, "spec.selector"), podLabels(w)) {
			out = append(out, p)
		}
	}
	return out
}

func replicas(c *Context, w *graph.Resource) float64 {
	if h := hpaFor(c, w); h != nil {
		n, _ := number(h, "spec.minReplicas")
		return n
	}
	n, ok := number(w, "spec.replicas")
	if !ok {
		return 1
	}
	return n
}

func kubernetesRules() []Rule {
	return []Rule{
		{ID: "K8S-01", Title: "runs as non-root", Severity: High, Types: workloads, Anchors: "CK_K8S_23/40, TV KSV-0012, PO, KS, CIS 4.2.6",
			Rationale: "A root process that escapes its container is root on the node.", Remediation: "Set runAsNonRoot on the pod or every container.",
			Check: func(_ *Context, r *graph.Resource) string {
				return eachContainer(r, func(pod, c map[string]any) string {
					return when(podOrContainer(pod, c, "runAsNonRoot") != true, "may run as root")
				})
			}},
		{ID: "K8S-02", Title: "read-only root filesystem", Severity: Medium, Types: workloads, Anchors: "CK_K8S_22, TV KSV-0014, PO, KS, PC",
			Rationale: "An attacker cannot drop tools into a read-only filesystem.", Remediation: "Set readOnlyRootFilesystem; mount an emptyDir where the app writes.",
			Check: func(_ *Context, r *graph.Resource) string {
				return eachContainer(r, func(_, c map[string]any) string {
					return when(sub(c, "securityContext.readOnlyRootFilesystem") != true, "root filesystem is writable")
				})
			}},
		{ID: "K8S-03", Title: "no privilege escalation", Severity: High, Types: workloads, Anchors: "CK_K8S_20, TV KSV-0001, CIS 4.2.5",
			Rationale: "setuid binaries must not gain privileges.", Remediation: "Set allowPrivilegeEscalation false.",
			Check: func(_ *Context, r *graph.Resource) string {
				return eachContainer(r, func(_, c map[string]any) string {
					return when(sub(c, "securityContext.allowPrivilegeEscalation") != false, "privilege escalation allowed")
				})
			}},
		{ID: "K8S-04", Title: "all capabilities dropped", Severity: Medium, Types: workloads, Anchors: "CK_K8S_37, TV KSV-0003, PO",
			Rationale: "Default capabilities (NET_RAW…) serve attackers, not web services.", Remediation: "Drop ALL.",
			Check: func(_ *Context, r *graph.Resource) string {
				return eachContainer(r, func(_, c map[string]any) string {
					return when(!slices.Contains(strs(sub(c, "securityContext.capabilities.drop")), "ALL"), "capabilities not dropped")
				})
			}},
		{ID: "K8S-05", Title: "no privileged container, host namespace or hostPath", Severity: High, Types: workloads, Anchors: "CK_K8S_16–19, TV KSV-0017/0009/0010/0008",
			Rationale: "Each of these is a way out of the container onto the node.", Remediation: "Remove privileged, hostNetwork, hostPID, hostIPC and hostPath.",
			Check: func(_ *Context, r *graph.Resource) string {
				spec := podSpec(r)
				for _, f := range []string{"hostNetwork", "hostPID", "hostIPC"} {
					if spec[f] == true {
						return f + " is on"
					}
				}
				vols, _ := spec["volumes"].([]any)
				for _, v := range vols {
					if m, _ := v.(map[string]any); m["hostPath"] != nil {
						return "a hostPath volume"
					}
				}
				return eachContainer(r, func(_, c map[string]any) string {
					return when(sub(c, "securityContext.privileged") == true, "privileged")
				})
			}},
		{ID: "K8S-06", Title: "seccomp RuntimeDefault", Severity: Medium, Types: workloads, Anchors: "CK_K8S_31, TV KSV-0030, PO",
			Rationale: "The runtime's seccomp profile blocks syscalls containers never need.", Remediation: "Set seccompProfile.type RuntimeDefault on the pod.",
			Check: func(_ *Context, r *graph.Resource) string {
				return eachContainer(r, func(pod, c map[string]any) string {
					t := sub(c, "securityContext.seccompProfile.type")
					if t == nil {
						t = sub(pod, "securityContext.seccompProfile.type")
					}
					return when(t != "RuntimeDefault" && t != "Localhost", fmt.Sprintf("seccomp profile %v", t))
				})
			}},
		{ID: "K8S-07", Title: "CPU and memory requests, memory limit", Severity: Medium, Types: workloads, Anchors: "CK_K8S_10–13, TV KSV-0011/0015/0016/0018, KS",
			Rationale: "Without requests the scheduler guesses; without a memory limit one pod starves a node.", Remediation: "Set resources.requests.cpu/memory and limits.memory.",
			Check: func(_ *Context, r *graph.Resource) string {
				return eachContainer(r, func(_, c map[string]any) string {
					for _, p := range []string{"resources.requests.cpu", "resources.requests.memory", "resources.limits.memory"} {
						if sub(c, p) == nil {
							return "no " + p
						}
					}
					return ""
				})
			}},
		{ID: "K8S-08", Title: "liveness and readiness probes, not identical", Severity: Medium, Types: replicated, Anchors: "CK_K8S_8/9, KS, PO",
			Rationale: "Readiness keeps traffic off a pod that cannot serve; liveness restarts a stuck one; the same probe for both restarts pods that are merely busy.", Remediation: "Probe /health and /ready.",
			Check: func(_ *Context, r *graph.Resource) string {
				spec := podSpec(r)
				for _, c := range containers(map[string]any{"containers": spec["containers"]}) {
					live, ready := c["livenessProbe"], c["readinessProbe"]
					if live == nil || ready == nil {
						return fmt.Sprintf("container %v lacks a probe", c["name"])
					}
					if reflect.DeepEqual(live, ready) {
						return fmt.Sprintf("container %v has identical probes", c["name"])
					}
				}
				return ""
			}},
		{ID: "K8S-09", Title: "image tagged, not latest", Severity: Medium, Types: workloads, Anchors: "CK_K8S_14, TV KSV-0013, PO, KS",
			Rationale: "latest names no build: rollbacks and audits become guesses.", Remediation: "Deploy repository:tag or @sha256 digests (images key).",
			Check: func(_ *Context, r *graph.Resource) string {
				return eachContainer(r, func(_, c map[string]any) string {
					img, _ := c["image"].(string)
					if strings.Contains(img, "@sha256:") {
						return ""
					}
					last := img[strings.LastIndex(img, "/")+1:]
					tag := ""
					if i := strings.LastIndex(last, ":"); i >= 0 {
						tag = last[i+1:]
					}
					return when(tag == "" || tag == "latest", fmt.Sprintf("image %q has no fixed tag", img))
				})
			}},
		{ID: "K8S-10", Title: "service-account token not mounted", Severity: Medium, Types: workloads, Anchors: "CK_K8S_38, KX, PO (Trivy KSV-0036 reads bare Pods only)",
			Rationale: "A token the app never uses is a token an attacker can.", Remediation: "Set automountServiceAccountToken false.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(podSpec(r)["automountServiceAccountToken"] != false, "the API token is mounted")
			}},
		{ID: "K8S-11", Title: "not in namespace default, not as service account default", Severity: Medium, Types: workloads, Anchors: "CK_K8S_21/41/42 (Trivy KSV-0110: the namespace half)",
			Rationale: "The defaults are shared by everything that forgot to choose.", Remediation: "Give the workload its namespace and service account.",
			Check: func(_ *Context, r *graph.Resource) string {
				sa, _ := podSpec(r)["serviceAccountName"].(string)
				switch {
				case namespaceOf(r) == "default":
					return "runs in namespace default"
				case sa == "" || sa == "default":
					return "runs as service account default"
				}
				return ""
			}},
		{ID: "K8S-12", Title: "multi-replica workloads have a PDB", Severity: Medium, Production: true, Types: replicated, Anchors: "KS, PO",
			Rationale: "Without a budget, a node drain may take every replica at once.", Remediation: "Add a PodDisruptionBudget selecting the pods.",
			Check: func(c *Context, r *graph.Resource) string {
				return when(replicas(c, r) > 1 && len(pdbsFor(c, r)) == 0, "no PodDisruptionBudget selects the pods")
			}},
		{ID: "K8S-13", Title: "PDB bounded and allowing a disruption", Severity: Medium, Types: []string{pdbType}, Anchors: "KS, PO, PC",
			Rationale: "A budget of zero blocks every drain and node upgrade.", Remediation: "Set maxUnavailable: 1.",
			Check: func(_ *Context, r *graph.Resource) string {
				maxU, minA := value(r, "spec.maxUnavailable"), value(r, "spec.minAvailable")
				switch {
				case maxU == nil && minA == nil:
					return "neither minAvailable nor maxUnavailable"
				case maxU == float64(0) || maxU == "0%":
					return "maxUnavailable 0 allows no disruption"
				case minA == "100%":
					return "minAvailable 100% allows no disruption"
				}
				return ""
			}},
		{ID: "K8S-14", Title: "every pod under a NetworkPolicy, default deny per namespace", Severity: Medium, Types: workloads, Anchors: "KS, PO, CK2_K8S_6, CIS 4.3.2",
			Rationale: "Without policies every pod reaches every other, and the database.", Remediation: "Give the workload a NetworkPolicy; keep the namespace's default deny.",
			Check: func(c *Context, r *graph.Resource) string {
				var selected, denyAll bool
				for _, p := range sameNamespace(c, r, netpolType) {
					sel, _ := value(p, "spec.podSelector").(map[string]any)
					if len(sel) == 0 || len(sel["matchLabels"].(map[string]any)) == 0 && sel["matchExpressions"] == nil {
						if value(p, "spec.ingress") == nil && value(p, "spec.egress") == nil && len(list(p, "spec.policyTypes")) == 2 {
							denyAll = true
							continue
						}
					}
					selected = selected || selects(sel, podLabels(r))
				}
				switch {
				case !denyAll:
					return "namespace " + namespaceOf(r) + " has no default-deny policy"
				case !selected:
					return "no NetworkPolicy selects the pods"
				}
				return ""
			}},
		{ID: "K8S-15", Title: "two replicas or an HPA, spread over zones", Severity: Medium, Production: true, Types: replicated, Anchors: "PO, KS, PC",
			Rationale: "One replica, or all replicas in one zone, is a single point of failure.", Remediation: "Run minReplicas ≥ 2 with a zone topology spread.",
			Check: func(c *Context, r *graph.Resource) string {
				n, _ := number(r, "spec.replicas")
				if n < 2 && hpaFor(c, r) == nil {
					return "a single replica and no autoscaler"
				}
				for _, t := range list(r, "spec.template.spec.topologySpreadConstraints") {
					if m, _ := t.(map[string]any); m["topologyKey"] == "topology.kubernetes.io/zone" {
						return ""
					}
				}
				return "no spread over zones"
			}},
		{ID: "K8S-16", Title: "HPA sound: existing target, min ≥ 2, max > min, PDB within min", Severity: Medium, Production: true, Types: []string{hpaType}, Anchors: "KS, PO",
			Rationale: "An HPA on a missing target does nothing; min 1 is a single point of failure; a PDB above min blocks drains.", Remediation: "Fix the target or the bounds.",
			Check: func(c *Context, h *graph.Resource) string {
				var target *graph.Resource
				for _, w := range sameNamespace(c, h, replicated...) {
					if str(w, "metadata.name") == str(h, "spec.scaleTargetRef.name") && str(w, "kind") == str(h, "spec.scaleTargetRef.kind") {
						target = w
					}
				}
				minR, _ := number(h, "spec.minReplicas")
				maxR, _ := number(h, "spec.maxReplicas")
				switch {
				case target == nil:
					return fmt.Sprintf("targets %s %s, which does not exist", str(h, "spec.scaleTargetRef.kind"), str(h, "spec.scaleTargetRef.name"))
				case minR < 2:
					return fmt.Sprintf("minReplicas %g below 2", minR)
				case maxR <= minR:
					return fmt.Sprintf("maxReplicas %g not above minReplicas %g", maxR, minR)
				}
				for _, p := range pdbsFor(c, target) {
					if n, ok := number(p, "spec.minAvailable"); ok && n > minR {
						return fmt.Sprintf("PodDisruptionBudget minAvailable %g above minReplicas %g", n, minR)
					}
				}
				return ""
			}},
		{ID: "K8S-17", Title: "CronJob has a start deadline and a sane restart policy", Severity: Low, Types: []string{cronJob}, Anchors: "KS",
			Rationale: "Without a deadline a missed run starts at any hour; Always is not valid for jobs.", Remediation: "Set startingDeadlineSeconds; restartPolicy Never or OnFailure.",
			Check: func(_ *Context, r *graph.Resource) string {
				if _, ok := number(r, "spec.startingDeadlineSeconds"); !ok {
					return "no startingDeadlineSeconds"
				}
				rp := podSpec(r)["restartPolicy"]
				return when(rp != "Never" && rp != "OnFailure", fmt.Sprintf("restartPolicy %v", rp))
			}},
		{ID: "K8S-18", Title: "Service: no NodePort, no external IPs, selects pods", Severity: Medium, Types: []string{serviceType}, Anchors: "KS, PC, TV KSV-0108",
			Rationale: "NodePorts and external IPs bypass the load balancer and its rules; a selector matching nothing is an outage.", Remediation: "Use ClusterIP behind an Ingress; fix the selector.",
			Check: func(c *Context, s *graph.Resource) string {
				switch {
				case str(s, "spec.type") == "NodePort":
					return "type NodePort"
				case len(list(s, "spec.externalIPs")) > 0:
					return "external IPs"
				}
				sel, _ := value(s, "spec.selector").(map[string]any)
				if len(sel) == 0 {
					return "" // a Service without selector is managed by hand, on purpose
				}
				for _, w := range sameNamespace(c, s, replicated...) {
					if selects(sel, podLabels(w)) {
						return ""
					}
				}
				return "the selector matches no pod template"
			}},
	}
}
