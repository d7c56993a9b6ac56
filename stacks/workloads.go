package stacks

// Namespace is the application namespace's shape.
type Namespace struct {
	// Name is the namespace the workload set runs in.
	Name string `json:"name"`
	// Quota caps what the namespace may request and use.
	Quota Quota `json:"quota"`
	// DefaultRequests and DefaultLimits apply to containers that set none
	// (every container of the platform's own sets both).
	DefaultRequests Quantities `json:"defaultRequests"`
	DefaultLimits   Quantities `json:"defaultLimits"`
}

// Quota is a ResourceQuota.
type Quota struct {
	RequestsCPU    string `json:"requestsCpu"`
	RequestsMemory string `json:"requestsMemory"`
	LimitsCPU      string `json:"limitsCpu"`
	LimitsMemory   string `json:"limitsMemory"`
	Pods           int    `json:"pods"`
}

// Quantities are a CPU and a memory quantity, as Kubernetes writes them.
type Quantities struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

// Resources are a container's requests and limits.
type Resources struct {
	Requests Quantities `json:"requests"`
	Limits   Quantities `json:"limits"`
}

// Probe is an HTTP probe on the service's port.
type Probe struct {
	Path                string `json:"path"`
	InitialDelaySeconds int    `json:"initialDelaySeconds"`
	PeriodSeconds       int    `json:"periodSeconds"`
}

// Ingress exposes a public service through the AWS Load Balancer Controller.
type Ingress struct {
	// Host is the DNS name the ALB answers for; empty answers any host.
	Host string `json:"host"`
	// Path is the path prefix routed to the service.
	Path string `json:"path"`
	// CertificateARN turns on HTTPS with an ACM certificate.
	CertificateARN string `json:"certificateArn"`
}

// Service is one service of the workload set.
type Service struct {
	// Image is "repository:tag", "repository@sha256:digest", or a bare tag
	// or digest of the service's ECR repository; the `images` key
	// overrides it without touching this object.
	Image string `json:"image"`
	// Port is the container port the service listens on.
	Port int `json:"port"`
	// MinReplicas and MaxReplicas bound the HorizontalPodAutoscaler.
	MinReplicas int `json:"minReplicas"`
	MaxReplicas int `json:"maxReplicas"`
	// TargetCPUPercent and TargetMemoryPercent are the HPA's targets, as
	// a share of the requests.
	TargetCPUPercent    int       `json:"targetCpuPercent"`
	TargetMemoryPercent int       `json:"targetMemoryPercent"`
	Resources           Resources `json:"resources"`
	Liveness            Probe     `json:"liveness"`
	Readiness           Probe     `json:"readiness"`
	// Public services get an internet-facing ALB Ingress.
	Public  bool    `json:"public"`
	Ingress Ingress `json:"ingress"`
	// Database and Cache give the pods DATABASE_URL and REDIS_URL, and the
	// network policy egress to them.
	Database bool `json:"database"`
	Cache    bool `json:"cache"`
	// Queue gives the pods QUEUE_URL and an IRSA role that may send,
	// receive and delete messages on the stack's queue.
	Queue bool `json:"queue"`
	// Calls lists services of the set this one calls in-cluster.
	Calls []string `json:"calls"`
	// Metrics says the service serves Prometheus metrics on /metrics.
	Metrics bool `json:"metrics"`
	// Env is plain, non-secret environment.
	Env map[string]string `json:"env"`
	// Strategy is how new versions are released.
	Strategy Strategy `json:"strategy"`
}

// The services of the personalization workload set.
const (
	APIService = "personalization-api"
	UIService  = "personalization-ui"
)

// defaultService is the template every service starts from, with the
// service design's numbers: port 3000, probes on /health and /ready,
// requests 250m/256Mi, limits 500m/512Mi, scaling on CPU 70 % and memory
// 80 %.
func defaultService() Service {
	return Service{
		Port:                3000,
		MinReplicas:         3,
		MaxReplicas:         10,
		TargetCPUPercent:    70,
		TargetMemoryPercent: 80,
		Resources: Resources{
			Requests: Quantities{CPU: "250m", Memory: "256Mi"},
			Limits:   Quantities{CPU: "500m", Memory: "512Mi"},
		},
		Liveness:  Probe{Path: "/health", InitialDelaySeconds: 30, PeriodSeconds: 10},
		Readiness: Probe{Path: "/ready", InitialDelaySeconds: 5, PeriodSeconds: 5},
		Metrics:   true,
		Strategy:  defaultStrategy(Dev, ""),
	}
}

// defaultWorkloads is the tier's workload set.
func defaultWorkloads(env Environment) map[string]Service {
	api := defaultService()
	// Bare tags: the images live in the stack's own ECR repositories.
	api.Image = "1.0.0"
	api.Public = true
	api.Ingress = Ingress{Path: "/api"}
	api.Database = true
	api.Cache = true
	api.Queue = true

	ui := defaultService()
	ui.Image = "1.0.0"
	ui.Public = true
	ui.Ingress = Ingress{Path: "/"}
	ui.Calls = []string{APIService}
	ui.MinReplicas, ui.MaxReplicas = 2, 6

	switch env {
	case Dev:
		api.MinReplicas, api.MaxReplicas = 1, 2
		ui.MinReplicas, ui.MaxReplicas = 1, 2
	case Staging:
		api.MinReplicas, api.MaxReplicas = 2, 4
		ui.MinReplicas, ui.MaxReplicas = 2, 4
	}
	api.Strategy = defaultStrategy(env, APIService)
	ui.Strategy = defaultStrategy(env, UIService)
	return map[string]Service{APIService: api, UIService: ui}
}

func defaultNamespace(env Environment) Namespace {
	ns := Namespace{
		Name:            "personalization",
		Quota:           Quota{RequestsCPU: "4", RequestsMemory: "8Gi", LimitsCPU: "8", LimitsMemory: "16Gi", Pods: 40},
		DefaultRequests: Quantities{CPU: "100m", Memory: "128Mi"},
		DefaultLimits:   Quantities{CPU: "500m", Memory: "512Mi"},
	}
	if env == Production {
		ns.Quota = Quota{RequestsCPU: "12", RequestsMemory: "24Gi", LimitsCPU: "24", LimitsMemory: "48Gi", Pods: 100}
	}
	return ns
}
