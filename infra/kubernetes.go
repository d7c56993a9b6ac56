package infra

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/addons"
	"github.com/personalization/platform/components/appnamespace"
	"github.com/personalization/platform/components/backup"
	"github.com/personalization/platform/components/cache"
	"github.com/personalization/platform/components/cluster"
	"github.com/personalization/platform/components/database"
	"github.com/personalization/platform/components/dbbackup"
	"github.com/personalization/platform/components/logging"
	"github.com/personalization/platform/components/monitoring"
	"github.com/personalization/platform/components/network"
	"github.com/personalization/platform/components/queue"
	"github.com/personalization/platform/components/registry"
	"github.com/personalization/platform/components/tracing"
	"github.com/personalization/platform/components/workload"
	"github.com/personalization/platform/stacks"
)

// MonitoringNamespace and PrometheusLabels say where Prometheus runs, for
// the network policies that let it scrape the services.
const MonitoringNamespace = "monitoring"

// PrometheusLabels select the Prometheus pods.
func PrometheusLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "prometheus"}
}

// platform is what the Kubernetes layer stands on.
type platform struct {
	profile *stacks.Profile
	aws     *aws.Provider
	account string
	net     *network.Network
	cluster *cluster.Cluster
	db      *database.Database
	redis   *cache.Cache
	dumps   *backup.BackupBucket
	logs    *logging.Logging
	// registry holds the services' images, queue their asynchronous work.
	registry *registry.Registry
	queue    *queue.Queue
	// pendingImages are services whose repository is new in this run:
	// no workload of theirs is created until an image is pushed.
	pendingImages map[string]string

	// set by kubernetesLayer
	monitoring *monitoring.Monitoring
	tracing    *tracing.Tracing
}

// Grafana's service account and pod labels, as kube-prometheus-stack names
// them: its IRSA role reads the logs, its pods query Tempo.
const grafanaServiceAccount = monitoring.ReleaseName + "-grafana"

func grafanaLabels() map[string]string { return map[string]string{"app.kubernetes.io/name": "grafana"} }

// kubernetesLayer deploys the add-ons, the application namespace, the
// workload set and the nightly dump into the cluster.
func kubernetesLayer(ctx *pulumi.Context, p *platform) (map[string]*workload.Service, error) {
	// Everything below schedules pods: it waits for the nodes, CoreDNS,
	// the default StorageClass and the load balancer controller's webhooks
	// (policy K8S-19 holds every pod-bearing resource to it).
	onCluster := pulumi.DependsOn(p.cluster.Ready)
	both := pulumi.Providers(p.aws, p.cluster.Provider)
	ops, err := addons.New(ctx, "addons", pulumi.Providers(p.cluster.Provider), onCluster)
	if err != nil {
		return nil, err
	}
	ns := p.profile.Namespace
	app, err := appnamespace.New(ctx, "app", &appnamespace.Args{
		Name:   ns.Name,
		Region: p.profile.Region,
		Quota: appnamespace.Quota{
			RequestsCPU: ns.Quota.RequestsCPU, RequestsMemory: ns.Quota.RequestsMemory,
			LimitsCPU: ns.Quota.LimitsCPU, LimitsMemory: ns.Quota.LimitsMemory, Pods: ns.Quota.Pods,
		},
		DefaultRequests: [2]string{ns.DefaultRequests.CPU, ns.DefaultRequests.Memory},
		DefaultLimits:   [2]string{ns.DefaultLimits.CPU, ns.DefaultLimits.Memory},
		OIDC:            p.cluster.OIDC,
		Database: appnamespace.Endpoint{
			Host: p.db.Address, Port: p.db.Port, SecretARN: p.db.MasterSecretARN, KeyARN: p.db.KMSKeyARN,
			Database: p.db.DatabaseName,
		},
		Redis: appnamespace.Endpoint{
			Host: p.redis.PrimaryEndpoint, Port: p.redis.Port, SecretARN: p.redis.AuthSecretARN, KeyARN: p.redis.KMSKeyARN,
		},
	}, both, pulumi.DependsOn(ops.Ready))
	if err != nil {
		return nil, err
	}
	inApp := []pulumi.ResourceOption{both, pulumi.DependsOn(app.Ready)}

	// Logs and traces first: the workloads send to the collector, Grafana
	// reads with the shipping's reader role.
	appGroup, platformGroup := logging.LogGroupNames(stacks.Project + "-" + p.profile.Stack)
	shipping, err := logging.NewShipping(ctx, "log-shipping", &logging.ShippingArgs{
		Name: stacks.Project + "-" + p.profile.Stack, Region: p.profile.Region, AccountID: p.account,
		KeyARN:        p.logs.KeyARN,
		RetentionDays: p.profile.Logging.RetentionDays, RetentionReason: p.profile.Logging.RetentionReason,
		AppNamespace: ns.Name, OIDC: p.cluster.OIDC,
		ReaderNamespace: MonitoringNamespace, ReaderServiceAccount: grafanaServiceAccount,
		PrometheusNamespace: MonitoringNamespace, PrometheusLabels: PrometheusLabels(),
	}, both, onCluster)
	if err != nil {
		return nil, err
	}
	tr := p.profile.Tracing
	p.tracing, err = tracing.New(ctx, "tracing", &tracing.Args{
		Exporter: tr.Exporter, Endpoint: tr.Endpoint, RetentionHours: tr.RetentionHours, StorageGiB: tr.StorageGiB,
		CollectorReplicas: tr.CollectorReplicas, AppNamespace: ns.Name,
		PrometheusNamespace: MonitoringNamespace, PrometheusLabels: PrometheusLabels(),
		PrometheusWriteURL: "http://" + monitoring.ReleaseName + "-prometheus." + MonitoringNamespace + ".svc:9090/api/v1/write",
		GrafanaNamespace:   MonitoringNamespace, GrafanaLabels: grafanaLabels(),
	}, pulumi.Providers(p.cluster.Provider), onCluster)
	if err != nil {
		return nil, err
	}

	services := map[string]*workload.Service{}
	for _, name := range p.deployable() {
		svc, err := workload.New(ctx, name, serviceArgs(p, name), inApp...)
		if err != nil {
			return nil, err
		}
		services[name] = svc
	}

	var metrics []string
	for _, name := range p.deployable() {
		if p.profile.Workloads[name].Metrics {
			metrics = append(metrics, name)
		}
	}
	mon := p.profile.Monitoring
	monitor, err := monitoring.New(ctx, "monitoring", &monitoring.Args{
		Name:           stacks.Project + "-" + p.profile.Stack,
		Namespace:      MonitoringNamespace,
		AppNamespace:   ns.Name,
		Services:       metrics,
		PortName:       workload.PortName,
		Retention:      mon.PrometheusRetention,
		StorageGiB:     mon.PrometheusStorageGiB,
		Replicas:       mon.PrometheusReplicas,
		AlertReplicas:  mon.AlertmanagerReplicas,
		ScrapeInterval: mon.ScrapeInterval,
		RunbookBaseURL: mon.RunbookBaseURL,
		Thresholds: monitoring.Thresholds{
			ErrorRatePercent:       mon.Alerts.ErrorRatePercent,
			LatencyWarningSeconds:  mon.Alerts.LatencyWarningSeconds,
			LatencyCriticalSeconds: mon.Alerts.LatencyCriticalSeconds,
			MemoryPercent:          mon.Alerts.MemoryPercent,
			RestartsPerHour:        mon.Alerts.RestartsPerHour,
			AvailabilityObjective:  mon.Alerts.AvailabilityObjective,
		},
		GrafanaAdminPassword: p.profile.Secrets.GrafanaAdminPassword,
		Receivers:            monitoring.Receivers{PagingURL: p.profile.Secrets.PagingWebhook, ChatURL: p.profile.Secrets.ChatWebhook},
		Alarms: monitoring.Alarms{
			AccountID:               p.account,
			Email:                   mon.AlarmEmail,
			DatabaseID:              p.db.InstanceID,
			DatabaseAllocatedGiB:    p.profile.Database.AllocatedStorageGiB,
			DatabaseCPUPercent:      mon.Alarms.DatabaseCPUPercent,
			DatabaseFreeStoragePct:  mon.Alarms.DatabaseFreeStoragePercent,
			DatabaseFreeableMemMiB:  mon.Alarms.DatabaseFreeableMemoryMiB,
			DatabaseConnections:     mon.Alarms.DatabaseConnections,
			CacheGroupID:            p.redis.GroupID,
			CacheNodes:              p.profile.Cache.Nodes,
			CacheCPUPercent:         mon.Alarms.CacheCPUPercent,
			CacheMemoryPercent:      mon.Alarms.CacheMemoryPercent,
			CacheEvictions:          mon.Alarms.CacheEvictions,
			CacheReplicationLagSecs: mon.Alarms.CacheReplicationLagSeconds,
			QueueName:               p.queue.Name,
			DeadLetterQueueName:     p.queue.DLQName,
			QueueOldestSeconds:      p.profile.Queue.OldestMessageAlarmSeconds,
		},
		Telemetry: monitoring.Telemetry{
			Region: p.profile.Region, LogGroups: []string{appGroup, platformGroup}, GrafanaRoleARN: shipping.ReaderRoleARN,
			TempoURL: p.tracing.TempoURL,
			Scrapes: []monitoring.Scrape{
				{Name: logging.AgentName, Namespace: logging.Namespace, Port: "http", Path: "/api/v2/metrics/prometheus",
					Labels: map[string]string{"app.kubernetes.io/name": logging.AgentName}},
				{Name: tracing.CollectorName, Namespace: tracing.Namespace, Port: "metrics", Path: "/metrics", Labels: tracing.CollectorLabels()},
				{Name: tracing.TempoName, Namespace: tracing.Namespace, Port: "tempo-prom-metrics", Path: "/metrics", Labels: tracing.TempoLabels()},
			},
		},
		Protect: p.profile.Protect,
	}, both, pulumi.DependsOn(app.Ready))
	if err != nil {
		return nil, err
	}
	p.monitoring = monitor

	if _, err := dbbackup.New(ctx, "database-backup", &dbbackup.Args{
		Namespace:         ns.Name,
		Schedule:          p.profile.Backup.Schedule,
		PostgresMajor:     p.profile.Database.EngineVersion,
		DatabaseURLSecret: appnamespace.DatabaseURLSecret,
		DatabaseURLKey:    appnamespace.DatabaseURLKey,
		DatabaseCIDRs:     p.net.DatabaseCIDRs,
		DatabasePort:      database.Port,
		Region:            p.profile.Region,
		BucketName:        p.dumps.BucketName,
		BucketARN:         p.dumps.BucketARN,
		KMSKeyARN:         p.dumps.KMSKeyARN,
		Prefix:            string(p.profile.Environment),
		ScratchSize:       fmt.Sprintf("%dGi", p.profile.Database.AllocatedStorageGiB),
		OIDC:              p.cluster.OIDC,
	}, inApp...); err != nil {
		return nil, err
	}
	return services, nil
}

// serviceArgs turns a profile service into the workload component's args.
func serviceArgs(p *platform, name string) *workload.Args {
	s := p.profile.Workloads[name]
	args := &workload.Args{
		Namespace:           p.profile.Namespace.Name,
		Name:                name,
		Image:               stacks.ImageIn(p.registry.URLs[name], s.Image),
		Port:                s.Port,
		MinReplicas:         s.MinReplicas,
		MaxReplicas:         s.MaxReplicas,
		TargetCPUPercent:    s.TargetCPUPercent,
		TargetMemoryPercent: s.TargetMemoryPercent,
		RequestCPU:          s.Resources.Requests.CPU,
		RequestMemory:       s.Resources.Requests.Memory,
		LimitCPU:            s.Resources.Limits.CPU,
		LimitMemory:         s.Resources.Limits.Memory,
		Liveness:            workload.Probe{Path: s.Liveness.Path, InitialDelaySeconds: s.Liveness.InitialDelaySeconds, Period: s.Liveness.PeriodSeconds},
		Readiness:           workload.Probe{Path: s.Readiness.Path, InitialDelaySeconds: s.Readiness.InitialDelaySeconds, Period: s.Readiness.PeriodSeconds},
		Env:                 s.Env,
		Public:              s.Public,
		Ingress:             workload.Ingress{Host: s.Ingress.Host, Path: s.Ingress.Path, CertificateARN: s.Ingress.CertificateARN},
		OIDC:                p.cluster.OIDC,
		Network: workload.Network{
			LoadBalancerCIDRs:   p.net.PublicCIDRs,
			PrometheusNamespace: MonitoringNamespace,
			PrometheusLabels:    PrometheusLabels(),
			Callees:             map[string]int{},
		},
	}
	args.Strategy = workload.Strategy{
		Type: s.Strategy.Type, PreviewPort: s.Strategy.PreviewPort, AutoPromote: s.Strategy.AutoPromote,
		Analysis: workload.Analysis{
			Prometheus:       "http://" + monitoring.ReleaseName + "-prometheus." + MonitoringNamespace + ".svc:9090",
			ErrorRatio:       s.Strategy.Analysis.ErrorRatePercent / 100,
			LatencyRatio:     s.Strategy.Analysis.LatencyRatio,
			Interval:         s.Strategy.Analysis.Interval,
			Count:            s.Strategy.Analysis.Count,
			AppNamespace:     p.profile.Namespace.Name,
			RequestsMetric:   monitoring.RequestsMetric,
			DurationMetric:   monitoring.DurationMetric,
			RestartsMetric:   "kube_pod_container_status_restarts_total",
			PodLabelsMetric:  "kube_pod_labels",
			PodTemplateLabel: "label_" + monitoring.PodTemplateHashLabel,
		},
	}
	for _, st := range s.Strategy.Steps {
		args.Strategy.Steps = append(args.Strategy.Steps, workload.CanaryStep{Weight: st.Weight, Pause: st.Pause})
	}
	if s.Database {
		args.SecretEnv = append(args.SecretEnv, workload.SecretEnv{Name: appnamespace.DatabaseURLKey, Secret: appnamespace.DatabaseURLSecret, Key: appnamespace.DatabaseURLKey})
		args.Network.Egress = append(args.Network.Egress, workload.Egress{CIDRs: p.net.DatabaseCIDRs, Port: database.Port})
	}
	if s.Cache {
		args.SecretEnv = append(args.SecretEnv, workload.SecretEnv{Name: appnamespace.RedisURLKey, Secret: appnamespace.RedisURLSecret, Key: appnamespace.RedisURLKey})
		args.Network.Egress = append(args.Network.Egress, workload.Egress{CIDRs: p.net.PrivateCIDRs, Port: cache.Port})
	}
	if s.Queue {
		// The queue's URL is plain config; its use is the IRSA role's,
		// and the SQS and STS endpoints answer on HTTPS.
		args.ComputedEnv = map[string]pulumi.StringInput{"QUEUE_URL": p.queue.URL}
		args.AWSPolicy = p.queue.ConsumerPolicy
		args.Network.Egress = append(args.Network.Egress, workload.Egress{CIDRs: []string{"0.0.0.0/0"}, Port: 443})
	}
	args.Telemetry = workload.Telemetry{
		Endpoint: p.tracing.OTLPEndpoint, Environment: string(p.profile.Environment), SamplingRatio: p.profile.Tracing.SamplingRatio,
		CollectorNamespace: tracing.Namespace, CollectorLabels: p.tracing.CollectorLabels,
		CollectorPorts: []int{tracing.OTLPGRPCPort, tracing.OTLPHTTPPort},
	}
	for _, callee := range s.Calls {
		args.Network.Callees[callee] = p.profile.Workloads[callee].Port
	}
	for _, other := range sortedServices(p.profile.Workloads) {
		for _, callee := range p.profile.Workloads[other].Calls {
			if callee == name {
				args.Network.Callers = append(args.Network.Callers, other)
			}
		}
	}
	return args
}

// deployable are the services of the workload set that have an image to
// run, in name order.
func (p *platform) deployable() []string {
	var names []string
	for _, name := range sortedServices(p.profile.Workloads) {
		if _, waiting := p.pendingImages[name]; !waiting {
			names = append(names, name)
		}
	}
	return names
}

func sortedServices(services map[string]stacks.Service) []string {
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
