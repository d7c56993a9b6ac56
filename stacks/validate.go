package stacks

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Validate checks a whole profile and returns every problem, each as a
// FieldError naming its key. It is the one place validation lives.
func Validate(p *Profile) error {
	var errs []error
	add := func(err *FieldError) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(validateRegion(p.Region))
	add(validateVPCCIDR(p.Network.CIDR))
	add(intInRange(key("network", "availabilityZones"), p.Network.AvailabilityZones, 2, 6))
	if !slices.Contains(NATModes(), p.Network.NATGateways) {
		add(&FieldError{Key: key("network", "natGateways"), Value: string(p.Network.NATGateways),
			Problem: "is not a NAT gateway layout", Allowed: oneOf(NATModes())})
	}
	add(validateRetention(key("network", "flowLogRetentionDays"), p.Network.FlowLogRetentionDays))
	for _, err := range validateCluster(&p.Cluster) {
		add(err)
	}
	for _, err := range validateDatabase(&p.Database) {
		add(err)
	}
	for _, err := range validateCache(p.Environment, &p.Cache) {
		add(err)
	}
	for _, err := range validateBackup(p.Region, &p.Backup) {
		add(err)
	}
	for _, err := range validateNamespace(&p.Namespace) {
		add(err)
	}
	for _, err := range validateWorkloads(p.Workloads) {
		add(err)
	}
	for _, err := range validateMonitoring(&p.Monitoring) {
		add(err)
	}
	for _, err := range validateDisasterRecovery(p) {
		add(err)
	}
	for _, err := range validateLogging(p.Environment, &p.Logging) {
		add(err)
	}
	for _, err := range validateTracing(&p.Tracing) {
		add(err)
	}
	for _, err := range validateRegistryQueue(&p.Registry, &p.Queue) {
		add(err)
	}
	for _, err := range validateWaivers(key("policy", "waivers"), p.Policy.Waivers) {
		add(err)
	}
	return errors.Join(errs...)
}

// validateWaivers: each waiver names a rule, a resource's URN and a reason.
func validateWaivers(k string, waivers []Waiver) []*FieldError {
	var errs []*FieldError
	for i, w := range waivers {
		at := func(f string) string { return fmt.Sprintf("%s[%d].%s", k, i, f) }
		switch {
		case w.Rule == "":
			errs = append(errs, &FieldError{Key: at("rule"), Problem: "is empty", Allowed: `a policy rule ID such as "S3-06", or a Trivy ID such as "AWS-0104"`})
		case !strings.HasPrefix(w.URN, "urn:pulumi:"):
			errs = append(errs, &FieldError{Key: at("urn"), Value: w.URN, Problem: "is not a URN", Allowed: "the URN of a resource of the stack (platform render --format json)"})
		case strings.TrimSpace(w.Reason) == "":
			errs = append(errs, &FieldError{Key: at("reason"), Problem: "is empty: a waiver needs its reason", Allowed: "a sentence saying why the rule does not apply"})
		}
	}
	return errs
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)

func validateRegion(region string) *FieldError {
	if region == "" || regionPattern.MatchString(region) {
		return nil // a missing region is reported by Parse
	}
	return &FieldError{Key: RegionKey, Value: region, Problem: "is not an AWS region name",
		Allowed: `a region such as "eu-west-1" or "us-east-2"`}
}

// The private address blocks of RFC 1918. A VPC outside them would route
// someone else's public addresses into the VPC.
var privateBlocks = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// The VPC prefix lengths the subnet layout fits: at /20 the smallest subnet
// (public, database) is a /26 with 59 usable addresses.
const (
	MinVPCPrefix = 16
	MaxVPCPrefix = 20
)

func validateVPCCIDR(cidr string) *FieldError {
	k := key("network", "cidr")
	allowed := fmt.Sprintf("an IPv4 block inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, prefix /%d to /%d, such as \"10.0.0.0/16\"",
		MinVPCPrefix, MaxVPCPrefix)
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return &FieldError{Key: k, Value: cidr, Problem: "is not a CIDR block", Allowed: allowed}
	}
	switch {
	case !prefix.Addr().Is4():
		return &FieldError{Key: k, Value: cidr, Problem: "is not IPv4", Allowed: allowed}
	case prefix.Masked() != prefix:
		return &FieldError{Key: k, Value: cidr, Problem: fmt.Sprintf("has host bits set (the block is %s)", prefix.Masked()), Allowed: allowed}
	case prefix.Bits() > MaxVPCPrefix:
		return &FieldError{Key: k, Value: cidr, Problem: fmt.Sprintf("is too small for three subnet tiers in up to six zones (/%d)", prefix.Bits()), Allowed: allowed}
	case prefix.Bits() < MinVPCPrefix:
		return &FieldError{Key: k, Value: cidr, Problem: fmt.Sprintf("is larger than AWS allows for a VPC (/%d)", prefix.Bits()), Allowed: allowed}
	}
	for _, block := range privateBlocks {
		if block.Contains(prefix.Addr()) && block.Bits() <= prefix.Bits() {
			return nil
		}
	}
	return &FieldError{Key: k, Value: cidr, Problem: "is not a private (RFC 1918) range", Allowed: allowed}
}

func intInRange(k string, v, lo, hi int) *FieldError {
	if v >= lo && v <= hi {
		return nil
	}
	return &FieldError{Key: k, Value: strconv.Itoa(v), Problem: "is out of range",
		Allowed: fmt.Sprintf("a whole number from %d to %d", lo, hi)}
}

// CloudWatchRetentionDays are the only retention periods CloudWatch Logs
// accepts for a log group.
func CloudWatchRetentionDays() []int {
	return []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
}

func validateRetention(k string, days int) *FieldError {
	allowed := CloudWatchRetentionDays()
	if slices.Contains(allowed, days) {
		return nil
	}
	return &FieldError{Key: k, Value: strconv.Itoa(days), Problem: "is not a retention CloudWatch Logs accepts",
		Allowed: fmt.Sprintf("one of %v days", allowed)}
}

var (
	iamPrincipalPattern = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+$`)
	instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	nodeGroupPattern    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)
)

func validateCluster(c *Cluster) []*FieldError {
	var errs []*FieldError
	if !slices.Contains(KubernetesVersions(), c.Version) {
		errs = append(errs, &FieldError{Key: key("cluster", "version"), Value: c.Version,
			Problem: "is not a supported Kubernetes version", Allowed: oneOf(KubernetesVersions())})
	}
	errs = append(errs, validatePublicAccess(c)...)
	for i, arn := range c.AdminPrincipals {
		if !iamPrincipalPattern.MatchString(arn) {
			errs = append(errs, &FieldError{Key: key("cluster", fmt.Sprintf("adminPrincipals[%d]", i)), Value: arn,
				Problem: "is not an IAM role or user ARN", Allowed: `an ARN such as "arn:aws:iam::123456789012:role/platform-admins"`})
		}
	}
	if err := validateRetention(key("cluster", "logRetentionDays"), c.LogRetentionDays); err != nil {
		errs = append(errs, err)
	}
	if len(c.NodeGroups) == 0 {
		errs = append(errs, &FieldError{Key: key("cluster", "nodeGroups"), Value: "[]",
			Problem: "has no node group", Allowed: "one or more node groups"})
	}
	seen := map[string]bool{}
	for i, ng := range c.NodeGroups {
		errs = append(errs, validateNodeGroup(i, &ng, seen)...)
	}
	return errs
}

// validatePublicAccess: the public endpoint is off, or on for a list of
// public addresses that is not the whole internet. An empty list means the
// deploy runners' egress addresses, which the program looks up by tag.
func validatePublicAccess(c *Cluster) []*FieldError {
	var errs []*FieldError
	k := key("cluster", "publicAccessCidrs")
	allowed := "the deploy runners' egress CIDRs, such as \"203.0.113.0/24\"; never 0.0.0.0/0 or ::/0"
	if !c.EndpointPublicAccess && len(c.PublicAccessCIDRs) > 0 {
		errs = append(errs, &FieldError{Key: k, Value: fmt.Sprint(c.PublicAccessCIDRs), Problem: "is set while endpointPublicAccess is false", Allowed: "an empty list, or set endpointPublicAccess to true"})
	}
	for i, cidr := range c.PublicAccessCIDRs {
		ki := fmt.Sprintf("%s[%d]", k, i)
		prefix, err := netip.ParsePrefix(cidr)
		switch {
		case err != nil:
			errs = append(errs, &FieldError{Key: ki, Value: cidr, Problem: "is not a CIDR block", Allowed: allowed})
		case prefix.Bits() == 0:
			errs = append(errs, &FieldError{Key: ki, Value: cidr, Problem: "opens the API server to the whole internet", Allowed: allowed})
		case prefix.Addr().IsPrivate() || prefix.Addr().IsLoopback() || prefix.Addr().IsLinkLocalUnicast():
			// EKS refuses them: inside the VPC the private endpoint answers.
			errs = append(errs, &FieldError{Key: ki, Value: cidr, Problem: "is not a public range; runners inside the VPC reach the private endpoint", Allowed: allowed})
		case prefix.Masked() != prefix:
			errs = append(errs, &FieldError{Key: ki, Value: cidr, Problem: fmt.Sprintf("has host bits set (the block is %s)", prefix.Masked()), Allowed: allowed})
		}
	}
	return errs
}

func validateNodeGroup(i int, ng *NodeGroup, seen map[string]bool) []*FieldError {
	var errs []*FieldError
	at := func(field string) string { return key("cluster", fmt.Sprintf("nodeGroups[%d]", i), field) }
	if !nodeGroupPattern.MatchString(ng.Name) {
		errs = append(errs, &FieldError{Key: at("name"), Value: ng.Name, Problem: "is not a node group name",
			Allowed: "lower-case letters, digits and dashes, starting with a letter, at most 31 characters"})
	} else if seen[ng.Name] {
		errs = append(errs, &FieldError{Key: at("name"), Value: ng.Name, Problem: "names another node group too", Allowed: "a unique name"})
	}
	seen[ng.Name] = true
	if len(ng.InstanceTypes) == 0 {
		errs = append(errs, &FieldError{Key: at("instanceTypes"), Value: "[]", Problem: "is empty", Allowed: `one or more EC2 instance types such as "m6i.large"`})
	}
	for j, it := range ng.InstanceTypes {
		if !instanceTypePattern.MatchString(it) {
			errs = append(errs, &FieldError{Key: at(fmt.Sprintf("instanceTypes[%d]", j)), Value: it,
				Problem: "is not an EC2 instance type", Allowed: `a type such as "m6i.large" or "t3a.medium"`})
		}
	}
	if !slices.Contains(CapacityTypes(), ng.CapacityType) {
		errs = append(errs, &FieldError{Key: at("capacityType"), Value: string(ng.CapacityType),
			Problem: "is not a capacity type", Allowed: oneOf(CapacityTypes())})
	}
	switch {
	case ng.MinSize < 0:
		errs = append(errs, &FieldError{Key: at("minSize"), Value: strconv.Itoa(ng.MinSize), Problem: "is negative", Allowed: "0 or more"})
	case ng.MaxSize < 1:
		errs = append(errs, &FieldError{Key: at("maxSize"), Value: strconv.Itoa(ng.MaxSize), Problem: "is below 1", Allowed: "1 or more, and at least minSize"})
	case ng.MinSize > ng.MaxSize:
		errs = append(errs, &FieldError{Key: at("minSize"), Value: strconv.Itoa(ng.MinSize),
			Problem: fmt.Sprintf("is above maxSize (%d)", ng.MaxSize), Allowed: fmt.Sprintf("0 to %d", ng.MaxSize)})
	case ng.DesiredSize < ng.MinSize || ng.DesiredSize > ng.MaxSize:
		errs = append(errs, &FieldError{Key: at("desiredSize"), Value: strconv.Itoa(ng.DesiredSize),
			Problem: "is outside [minSize, maxSize]", Allowed: fmt.Sprintf("%d to %d", ng.MinSize, ng.MaxSize)})
	}
	if err := intInRange(at("diskSizeGiB"), ng.DiskSizeGiB, 20, 16384); err != nil {
		errs = append(errs, err)
	}
	for j, t := range ng.Taints {
		if !slices.Contains(TaintEffects(), t.Effect) {
			errs = append(errs, &FieldError{Key: at(fmt.Sprintf("taints[%d].effect", j)), Value: t.Effect,
				Problem: "is not a taint effect", Allowed: oneOf(TaintEffects())})
		}
		if t.Key == "" {
			errs = append(errs, &FieldError{Key: at(fmt.Sprintf("taints[%d].key", j)), Problem: "is empty", Allowed: "a label-style key such as \"dedicated\""})
		}
	}
	return errs
}

// The instance families the platform runs on: current generations only.
var (
	dbClassPattern   = regexp.MustCompile(`^db\.(t3|t4g|m5|m6g|m6i|m7g|m7i|r5|r6g|r6i|r7g|r7i)\.(micro|small|medium|large|xlarge|[0-9]{1,2}xlarge)$`)
	cacheNodePattern = regexp.MustCompile(`^cache\.(t3|t4g|m5|m6g|m7g|r5|r6g|r7g)\.(micro|small|medium|large|xlarge|[0-9]{1,2}xlarge)$`)
)

func validateDatabase(d *Database) []*FieldError {
	var errs []*FieldError
	at := func(f string) string { return key("database", f) }
	if !slices.Contains(PostgresVersions(), d.EngineVersion) {
		errs = append(errs, &FieldError{Key: at("engineVersion"), Value: d.EngineVersion, Problem: "is not a supported PostgreSQL major version", Allowed: oneOf(PostgresVersions())})
	}
	if !dbClassPattern.MatchString(d.InstanceClass) {
		errs = append(errs, &FieldError{Key: at("instanceClass"), Value: d.InstanceClass, Problem: "is not a DB instance class of a supported family",
			Allowed: "db.<family>.<size> with family one of t3, t4g, m5, m6g, m6i, m7g, m7i, r5, r6g, r6i, r7g, r7i (such as \"db.r6g.large\")"})
	}
	if d.AllocatedStorageGiB < 20 || d.AllocatedStorageGiB > 65536 {
		errs = append(errs, &FieldError{Key: at("allocatedStorageGiB"), Value: strconv.Itoa(d.AllocatedStorageGiB), Problem: "is outside what gp3 storage for PostgreSQL takes", Allowed: "20 to 65536 GiB"})
	} else if d.MaxAllocatedStorageGiB < d.AllocatedStorageGiB || d.MaxAllocatedStorageGiB > 65536 {
		errs = append(errs, &FieldError{Key: at("maxAllocatedStorageGiB"), Value: strconv.Itoa(d.MaxAllocatedStorageGiB), Problem: "is below allocatedStorageGiB or above the gp3 maximum",
			Allowed: fmt.Sprintf("%d to 65536 GiB", d.AllocatedStorageGiB)})
	}
	if err := intInRange(at("backupRetentionDays"), d.BackupRetentionDays, 1, 35); err != nil {
		errs = append(errs, err)
	}
	if err := intInRange(at("slowStatementMs"), d.SlowStatementMs, 1, 600000); err != nil {
		errs = append(errs, err)
	}
	if err := validateRetention(at("logRetentionDays"), d.LogRetentionDays); err != nil {
		errs = append(errs, err)
	}
	return errs
}

func validateCache(env Environment, c *Cache) []*FieldError {
	var errs []*FieldError
	at := func(f string) string { return key("cache", f) }
	if !slices.Contains(RedisVersions(), c.EngineVersion) {
		errs = append(errs, &FieldError{Key: at("engineVersion"), Value: c.EngineVersion, Problem: "is not a supported Redis version", Allowed: oneOf(RedisVersions())})
	}
	if !cacheNodePattern.MatchString(c.NodeType) {
		errs = append(errs, &FieldError{Key: at("nodeType"), Value: c.NodeType, Problem: "is not a cache node type of a supported family",
			Allowed: "cache.<family>.<size> with family one of t3, t4g, m5, m6g, m7g, r5, r6g, r7g (such as \"cache.r7g.large\")"})
	}
	minNodes := 1
	if env == Production {
		minNodes = 2 // a replica to fail over to
	}
	if err := intInRange(at("nodes"), c.Nodes, minNodes, 6); err != nil {
		if env == Production {
			err.Problem = "is out of range for production, which needs a replica to fail over to"
		}
		errs = append(errs, err)
	}
	if err := intInRange(at("snapshotRetentionDays"), c.SnapshotRetentionDays, 0, 35); err != nil {
		errs = append(errs, err)
	}
	if err := validateRetention(at("logRetentionDays"), c.LogRetentionDays); err != nil {
		errs = append(errs, err)
	}
	return errs
}

func validateBackup(region string, b *Backup) []*FieldError {
	var errs []*FieldError
	at := func(f string) string { return key("backup", f) }
	if err := ValidateCron(b.Schedule); err != nil {
		errs = append(errs, &FieldError{Key: at("schedule"), Value: b.Schedule, Problem: "is not a cron schedule: " + err.Error(),
			Allowed: `five fields "minute hour day-of-month month day-of-week", such as "0 2 * * *"`})
	}
	if err := intInRange(at("retentionDays"), b.RetentionDays, 1, 3650); err != nil {
		errs = append(errs, err)
	}
	if err := intInRange(at("noncurrentVersionDays"), b.NoncurrentVersionDays, 1, 365); err != nil {
		errs = append(errs, err)
	}
	if b.ReplicaRegion != "" {
		switch {
		case !regionPattern.MatchString(b.ReplicaRegion):
			errs = append(errs, &FieldError{Key: at("replicaRegion"), Value: b.ReplicaRegion, Problem: "is not an AWS region name", Allowed: `a region such as "eu-central-1", or "" for no replica`})
		case b.ReplicaRegion == region:
			errs = append(errs, &FieldError{Key: at("replicaRegion"), Value: b.ReplicaRegion, Problem: "is the stack's own region, which a regional outage takes down with the primary",
				Allowed: fmt.Sprintf("any region but %s, or \"\" for no replica", region)})
		}
	}
	return errs
}

func validateNamespace(ns *Namespace) []*FieldError {
	var errs []*FieldError
	at := func(f string) string { return key("namespace", f) }
	if p := serviceNameProblem(ns.Name); p != "" {
		errs = append(errs, &FieldError{Key: at("name"), Value: ns.Name, Problem: "is not a namespace name", Allowed: "a DNS label such as \"personalization\""})
	}
	for f, q := range map[string]string{
		"quota.requestsCpu": ns.Quota.RequestsCPU, "quota.requestsMemory": ns.Quota.RequestsMemory,
		"quota.limitsCpu": ns.Quota.LimitsCPU, "quota.limitsMemory": ns.Quota.LimitsMemory,
		"defaultRequests.cpu": ns.DefaultRequests.CPU, "defaultRequests.memory": ns.DefaultRequests.Memory,
		"defaultLimits.cpu": ns.DefaultLimits.CPU, "defaultLimits.memory": ns.DefaultLimits.Memory,
	} {
		if err := quantity(at(f), q); err != nil {
			errs = append(errs, err)
		}
	}
	if ns.Quota.Pods < 1 {
		errs = append(errs, &FieldError{Key: at("quota.pods"), Value: strconv.Itoa(ns.Quota.Pods), Problem: "is below 1", Allowed: "1 or more"})
	}
	return sortErrors(errs)
}

func validateWorkloads(services map[string]Service) []*FieldError {
	var errs []*FieldError
	if len(services) == 0 {
		errs = append(errs, &FieldError{Key: key("workloads"), Value: "{}", Problem: "has no service", Allowed: "one or more services"})
	}
	for _, name := range serviceNames(services) {
		errs = append(errs, validateService(name, services[name], services)...)
	}
	return errs
}

func validateService(name string, s Service, all map[string]Service) []*FieldError {
	var errs []*FieldError
	at := func(f string) string { return key("workloads", name, f) }
	if p := serviceNameProblem(name); p != "" {
		errs = append(errs, &FieldError{Key: key("workloads", name), Value: name, Problem: "is not a service name: " + p, Allowed: "a DNS label such as \"personalization-api\""})
	}
	if err := ValidateImage(at("image"), s.Image); err != nil {
		errs = append(errs, err)
	}
	if err := intInRange(at("port"), s.Port, 1, 65535); err != nil {
		errs = append(errs, err)
	}
	if err := intInRange(at("minReplicas"), s.MinReplicas, 1, 100); err != nil {
		errs = append(errs, err)
	} else if s.MaxReplicas < s.MinReplicas || s.MaxReplicas > 100 {
		errs = append(errs, &FieldError{Key: at("maxReplicas"), Value: strconv.Itoa(s.MaxReplicas),
			Problem: fmt.Sprintf("is below minReplicas (%d) or above 100", s.MinReplicas), Allowed: fmt.Sprintf("%d to 100", s.MinReplicas)})
	}
	for f, v := range map[string]int{"targetCpuPercent": s.TargetCPUPercent, "targetMemoryPercent": s.TargetMemoryPercent} {
		if err := intInRange(at(f), v, 1, 100); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, validateResources(at("resources"), s.Resources)...)
	for f, p := range map[string]Probe{"liveness": s.Liveness, "readiness": s.Readiness} {
		if !strings.HasPrefix(p.Path, "/") {
			errs = append(errs, &FieldError{Key: at(f + ".path"), Value: p.Path, Problem: "does not start with a slash", Allowed: `an HTTP path such as "/health"`})
		}
		if err := intInRange(at(f+".initialDelaySeconds"), p.InitialDelaySeconds, 0, 600); err != nil {
			errs = append(errs, err)
		}
		if err := intInRange(at(f+".periodSeconds"), p.PeriodSeconds, 1, 300); err != nil {
			errs = append(errs, err)
		}
	}
	if s.Public {
		if !strings.HasPrefix(s.Ingress.Path, "/") {
			errs = append(errs, &FieldError{Key: at("ingress.path"), Value: s.Ingress.Path, Problem: "does not start with a slash", Allowed: `a path prefix such as "/" or "/api"`})
		}
		if s.Ingress.CertificateARN != "" && !acmPattern.MatchString(s.Ingress.CertificateARN) {
			errs = append(errs, &FieldError{Key: at("ingress.certificateArn"), Value: s.Ingress.CertificateARN, Problem: "is not an ACM certificate ARN",
				Allowed: `"arn:aws:acm:<region>:<account>:certificate/<id>", or "" for HTTP only`})
		}
	}
	errs = append(errs, validateStrategy(at, s.Strategy)...)
	for i, callee := range s.Calls {
		if _, ok := all[callee]; !ok || callee == name {
			errs = append(errs, &FieldError{Key: at(fmt.Sprintf("calls[%d]", i)), Value: callee, Problem: "is not another service of the workload set",
				Allowed: "one of " + strings.Join(serviceNames(all), ", ")})
		}
	}
	return sortErrors(errs)
}

var acmPattern = regexp.MustCompile(`^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$`)

// validateResources: every quantity parses as Kubernetes would, and no limit
// is below its request.
func validateResources(k string, r Resources) []*FieldError {
	var errs []*FieldError
	pairs := []struct{ name, request, limit string }{
		{"cpu", r.Requests.CPU, r.Limits.CPU},
		{"memory", r.Requests.Memory, r.Limits.Memory},
	}
	for _, p := range pairs {
		reqErr := quantity(k+".requests."+p.name, p.request)
		limErr := quantity(k+".limits."+p.name, p.limit)
		if reqErr != nil {
			errs = append(errs, reqErr)
		}
		if limErr != nil {
			errs = append(errs, limErr)
		}
		if reqErr == nil && limErr == nil && compareQuantities(p.limit, p.request) < 0 {
			errs = append(errs, &FieldError{Key: k + ".limits." + p.name, Value: p.limit,
				Problem: fmt.Sprintf("is below the request (%s)", p.request), Allowed: "a limit at or above " + p.request})
		}
	}
	return errs
}

// compareQuantities compares two quantities that parse.
func compareQuantities(a, b string) int {
	qa, qb := resource.MustParse(a), resource.MustParse(b)
	return qa.Cmp(qb)
}

// quantity checks a Kubernetes resource quantity ("250m", "512Mi").
func quantity(k, q string) *FieldError {
	parsed, err := resource.ParseQuantity(q)
	if err != nil || parsed.Sign() <= 0 {
		return &FieldError{Key: k, Value: q, Problem: "is not a positive Kubernetes quantity", Allowed: `a quantity such as "250m", "1", "256Mi" or "2Gi"`}
	}
	return nil
}

// sortErrors orders errors built from map iteration by key, so messages
// are stable from run to run.
func sortErrors(errs []*FieldError) []*FieldError {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Key < errs[j].Key })
	return errs
}

func validateMonitoring(m *Monitoring) []*FieldError {
	var errs []*FieldError
	at := func(f string) string { return key("monitoring", f) }
	for f, d := range map[string]string{"prometheusRetention": m.PrometheusRetention, "scrapeInterval": m.ScrapeInterval} {
		if parsed, err := model.ParseDuration(d); err != nil || parsed <= 0 {
			errs = append(errs, &FieldError{Key: at(f), Value: d, Problem: "is not a duration Prometheus accepts",
				Allowed: `a Prometheus duration such as "15s", "15d" or "2w"`})
		}
	}
	for f, v := range map[string]int{"prometheusStorageGiB": m.PrometheusStorageGiB, "prometheusReplicas": m.PrometheusReplicas, "alertmanagerReplicas": m.AlertmanagerReplicas} {
		if err := intInRange(at(f), v, 1, 10000); err != nil {
			errs = append(errs, err)
		}
	}
	if u, err := url.Parse(m.RunbookBaseURL); err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, &FieldError{Key: at("runbookBaseUrl"), Value: m.RunbookBaseURL, Problem: "is not an https URL", Allowed: "the https URL of docs/operations.md in your repository"})
	}
	if m.AlarmEmail != "" {
		if addr, err := mail.ParseAddress(m.AlarmEmail); err != nil || addr.Address != m.AlarmEmail {
			errs = append(errs, &FieldError{Key: at("alarmEmail"), Value: m.AlarmEmail, Problem: "is not an e-mail address", Allowed: `an address such as "ops@example.com", or "" for none`})
		}
	}
	a := m.Alerts
	for f, v := range map[string]float64{"alerts.errorRatePercent": a.ErrorRatePercent, "alerts.memoryPercent": a.MemoryPercent,
		"alarms.databaseCpuPercent": m.Alarms.DatabaseCPUPercent, "alarms.databaseFreeStoragePercent": m.Alarms.DatabaseFreeStoragePercent,
		"alarms.cacheCpuPercent": m.Alarms.CacheCPUPercent, "alarms.cacheMemoryPercent": m.Alarms.CacheMemoryPercent} {
		if v <= 0 || v > 100 {
			errs = append(errs, &FieldError{Key: at(f), Value: formatFloat(v), Problem: "is not a percentage", Allowed: "a number above 0 and at most 100"})
		}
	}
	for f, v := range map[string]float64{"alerts.latencyWarningSeconds": a.LatencyWarningSeconds, "alerts.latencyCriticalSeconds": a.LatencyCriticalSeconds,
		"alarms.cacheReplicationLagSeconds": m.Alarms.CacheReplicationLagSeconds} {
		if v <= 0 || v > 3600 {
			errs = append(errs, &FieldError{Key: at(f), Value: formatFloat(v), Problem: "is not a latency", Allowed: "seconds above 0 and at most 3600"})
		}
	}
	if a.LatencyWarningSeconds > 0 && a.LatencyCriticalSeconds > 0 && a.LatencyWarningSeconds >= a.LatencyCriticalSeconds {
		errs = append(errs, &FieldError{Key: at("alerts.latencyWarningSeconds"), Value: formatFloat(a.LatencyWarningSeconds),
			Problem: "is not below latencyCriticalSeconds", Allowed: fmt.Sprintf("seconds below %s", formatFloat(a.LatencyCriticalSeconds))})
	}
	if a.AvailabilityObjective < 90 || a.AvailabilityObjective > 99.999 {
		errs = append(errs, &FieldError{Key: at("alerts.availabilityObjective"), Value: formatFloat(a.AvailabilityObjective),
			Problem: "is not an availability objective an error budget can be computed for", Allowed: "a percentage from 90 to 99.999"})
	}
	for f, v := range map[string]int{"alerts.restartsPerHour": a.RestartsPerHour, "alarms.databaseFreeableMemoryMiB": m.Alarms.DatabaseFreeableMemoryMiB,
		"alarms.databaseConnections": m.Alarms.DatabaseConnections, "alarms.cacheEvictions": m.Alarms.CacheEvictions} {
		if err := intInRange(at(f), v, 1, 1000000); err != nil {
			errs = append(errs, err)
		}
	}
	return sortErrors(errs)
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// awsBackupCron is AWS Backup's schedule syntax: cron(minutes hours
// day-of-month month day-of-week year), with ? in one of the day fields.
var awsBackupCron = regexp.MustCompile(`^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$`)

func validateDisasterRecovery(p *Profile) []*FieldError {
	d := p.DisasterRecovery
	if !d.AWSBackup {
		return nil
	}
	var errs []*FieldError
	at := func(f string) string { return key("disasterRecovery", f) }
	if err := intInRange(at("continuousRetentionDays"), d.ContinuousRetentionDays, 1, 35); err != nil {
		err.Problem = "is outside what continuous backup keeps"
		errs = append(errs, err)
	}
	if err := intInRange(at("dailyRetentionDays"), d.DailyRetentionDays, 1, 36500); err != nil {
		errs = append(errs, err)
	}
	if err := awsBackupSchedule(at("schedule"), d.Schedule, "cron(0 4 ? * * *)"); err != nil {
		errs = append(errs, err)
	}
	if d.RestoreTestSchedule != "" {
		err := awsBackupSchedule(at("restoreTestSchedule"), d.RestoreTestSchedule, "cron(0 5 ? * SUN *)")
		if m := awsBackupCron.FindStringSubmatch(d.RestoreTestSchedule); err == nil && (m[4] != "*" || (m[3] != "?" && m[3] != "*")) {
			// The missing-test alarm counts seven days without a restore.
			err = &FieldError{Key: at("restoreTestSchedule"), Value: d.RestoreTestSchedule, Problem: "runs less often than weekly, and the alarm on a missing restore test waits only 7 days",
				Allowed: `a schedule that runs every week: any month (*), days chosen by day-of-week, such as "cron(0 5 ? * SUN *)"`}
		}
		if err != nil {
			err.Allowed += `, or "" to turn restore testing off`
			errs = append(errs, err)
		}
	}
	region := d.CopyRegion
	if region == "" {
		region = p.Backup.ReplicaRegion
	}
	switch {
	case region == "":
		errs = append(errs, &FieldError{Key: at("copyRegion"), Problem: "is not set, nor is backup.replicaRegion", Allowed: `a region other than the stack's, such as "eu-central-1"`})
	case d.CopyRegion == "":
		// Inherited from backup.replicaRegion, which is checked there.
	case region == p.Region:
		errs = append(errs, &FieldError{Key: at("copyRegion"), Value: region, Problem: "is the stack's own region, which a regional outage takes down with the primary",
			Allowed: fmt.Sprintf("any region but %s", p.Region)})
	case p.Backup.ReplicaRegion != "" && region != p.Backup.ReplicaRegion:
		// One DR region per stack: the dumps' replicas and the recovery
		// points' copies must be restorable side by side.
		errs = append(errs, &FieldError{Key: at("copyRegion"), Value: region, Problem: "differs from backup.replicaRegion: a stack has one disaster recovery region",
			Allowed: fmt.Sprintf("%q (backup.replicaRegion), or leave it unset", p.Backup.ReplicaRegion)})
	case !regionPattern.MatchString(region):
		errs = append(errs, &FieldError{Key: at("copyRegion"), Value: region, Problem: "is not an AWS region name", Allowed: `a region such as "eu-central-1"`})
	}
	return errs
}

// awsBackupSchedule checks a cron expression as AWS Backup reads it.
func awsBackupSchedule(key, schedule, example string) *FieldError {
	if m := awsBackupCron.FindStringSubmatch(schedule); m != nil && (m[3] == "?") != (m[5] == "?") {
		return nil
	}
	return &FieldError{Key: key, Value: schedule, Problem: "is not a schedule AWS Backup accepts",
		Allowed: `"cron(minutes hours day-of-month month day-of-week year)" with ? in exactly one day field, such as "` + example + `"`}
}

// CopyRegion is where AWS Backup copies go.
func (p *Profile) CopyRegion() string {
	if p.DisasterRecovery.CopyRegion != "" {
		return p.DisasterRecovery.CopyRegion
	}
	return p.Backup.ReplicaRegion
}
