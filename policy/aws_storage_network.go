package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/personalization/platform/graph"
)

// bucketRole tells the dump buckets from the buckets that serve them: a
// bucket other buckets log to, and a bucket other buckets replicate to.
func bucketRole(c *Context, b *graph.Resource) (logTarget, replicaTarget bool) {
	for _, r := range c.Dependents(b.URN, loggingV2, loggingLegacy) {
		logTarget = logTarget || r.DependsThrough("targetBucket", b.URN)
	}
	for _, r := range c.Dependents(b.URN, replicationCfg, replicationOther) {
		replicaTarget = replicaTarget || (r.DependsThrough("rules", b.URN) && !r.DependsThrough("bucket", b.URN))
	}
	return logTarget, replicaTarget
}

func s3Rules() []Rule {
	related := func(c *Context, b *graph.Resource, types ...string) []*graph.Resource {
		var out []*graph.Resource
		for _, r := range c.Dependents(b.URN, types...) {
			if r.DependsThrough("bucket", b.URN) {
				out = append(out, r)
			}
		}
		return out
	}
	return []Rule{
		{ID: "S3-01", Title: "one public access block per bucket, all four flags on", Severity: High, Types: buckets, Anchors: "CK_AWS_53–56, TV-0086/0087/0091/0093/0094",
			Rationale: "Without the block, one ACL or policy edit makes the dumps public.", Remediation: "Attach a BucketPublicAccessBlock with every flag true.",
			Check: func(c *Context, b *graph.Resource) string {
				blocks := related(c, b, publicAccess)
				if len(blocks) != 1 {
					return fmt.Sprintf("%d public access blocks", len(blocks))
				}
				for _, f := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					if !isTrue(blocks[0], f) {
						return f + " is off"
					}
				}
				return ""
			}},
		{ID: "S3-02", Title: "versioning enabled", Severity: Medium, Types: buckets, Anchors: "CK_AWS_21, TV-0090",
			Rationale: "Versions undo an overwrite or a delete, and replication needs them.", Remediation: "Attach a BucketVersioningV2 with status Enabled.",
			Check: func(c *Context, b *graph.Resource) string {
				for _, v := range related(c, b, versioningV2, versioning) {
					if str(v, "versioningConfiguration.status") == "Enabled" {
						return ""
					}
				}
				return when(!isTrue(b, "versioning.enabled"), "versioning is not enabled")
			}},
		{ID: "S3-03", Title: "SSE-KMS with a key and a bucket key (access-log buckets: SSE-S3)", Severity: High, Types: buckets, Anchors: "CK_AWS_19/145, TV-0088/0132, PC",
			Rationale: "A customer key puts reads of the dumps under its key policy and CloudTrail. S3 delivers access logs only to SSE-S3 buckets, so those are held to SSE-S3.", Remediation: "Attach an SSE configuration with aws:kms, kmsMasterKeyId and bucketKeyEnabled.",
			Check: func(c *Context, b *graph.Resource) string {
				logTarget, _ := bucketRole(c, b)
				for _, e := range related(c, b, sseConfigV2, sseConfig) {
					for _, rule := range list(e, "rules") {
						m, _ := rule.(map[string]any)
						def, _ := m["applyServerSideEncryptionByDefault"].(map[string]any)
						switch {
						case def["sseAlgorithm"] == "aws:kms" && def["kmsMasterKeyId"] != nil && m["bucketKeyEnabled"] == true:
							return ""
						case logTarget && def["sseAlgorithm"] == "AES256":
							return ""
						}
					}
				}
				return "not encrypted with SSE-KMS, a key and a bucket key"
			}},
		{ID: "S3-04", Title: "policy denies requests without TLS", Severity: High, Types: buckets, Anchors: "ours",
			Rationale: "Only a Deny on aws:SecureTransport=false keeps every client on TLS.", Remediation: "Attach a bucket policy denying s3:* when aws:SecureTransport is false.",
			Check: func(c *Context, b *graph.Resource) string {
				for _, p := range related(c, b, bucketPolicy) {
					doc, err := parseDocument(str(p, "policy"))
					if err != nil {
						return "bucket policy does not parse: " + err.Error()
					}
					for _, st := range doc.Statement {
						if st.Effect == "Deny" && fmt.Sprint(st.Condition["Bool"][secureTransport]) == "false" {
							return ""
						}
					}
				}
				return "no policy denies plain HTTP"
			}},
		{ID: "S3-05", Title: "no Allow to everyone, no public ACL", Severity: High, Types: []string{bucketPolicy, bucketACL, bucketLegacy}, Anchors: "CK_AWS_70, PC (Trivy AWS-0092 only when no public access block overrides the ACL)",
			Rationale: "A policy allowing principal * or a public ACL publishes the bucket.", Remediation: "Name the principals; drop public ACLs.",
			Check: func(_ *Context, r *graph.Resource) string {
				if acl := str(r, "acl"); strings.HasPrefix(acl, "public") || acl == "authenticated-read" {
					return "ACL " + acl + " is public"
				}
				if r.Type != bucketPolicy {
					return ""
				}
				doc, err := parseDocument(str(r, "policy"))
				if err != nil {
					return "policy does not parse: " + err.Error()
				}
				for _, st := range doc.Statement {
					if st.Effect == "Allow" && principalIsEveryone(st.Principal) {
						return "a statement allows everyone"
					}
				}
				return ""
			}},
		{ID: "S3-06", Title: "access logging (not on log and replica buckets)", Severity: Medium, Production: true, Types: buckets, Anchors: "CK_AWS_18, TV-0089, AG",
			Rationale: "Access logs tell who read a dump. A log bucket cannot log to itself; a replica is written by replication alone, which the source's log records.", Remediation: "Set backup.accessLogging.",
			Check: func(c *Context, b *graph.Resource) string {
				if logTarget, replica := bucketRole(c, b); logTarget || replica {
					return ""
				}
				return when(len(related(c, b, loggingV2, loggingLegacy)) == 0, "access logging is off")
			}},
		{ID: "S3-07", Title: "lifecycle that aborts incomplete uploads", Severity: Low, Production: true, Types: buckets, Anchors: "CK2_AWS_61",
			Rationale: "Abandoned multipart uploads are billed forever and never listed.", Remediation: "Add abortIncompleteMultipartUpload to the lifecycle.",
			Check: func(c *Context, b *graph.Resource) string {
				for _, l := range related(c, b, lifecycleV2, lifecycleLegacy) {
					for _, rule := range list(l, "rules") {
						if m, _ := rule.(map[string]any); m["abortIncompleteMultipartUpload"] != nil && m["status"] == "Enabled" {
							return ""
						}
					}
				}
				return "no lifecycle rule aborts incomplete uploads"
			}},
		{ID: "S3-08", Title: "dumps replicated to another region", Severity: Medium, Production: true, Types: buckets, Anchors: "CK_AWS_144",
			Rationale: "A regional outage or a lost bucket must not take the backups with it.", Remediation: "Set backup.replicaRegion.",
			Check: func(c *Context, b *graph.Resource) string {
				if logTarget, replica := bucketRole(c, b); logTarget || replica {
					return ""
				}
				return when(len(related(c, b, replicationCfg, replicationOther)) == 0, "not replicated")
			}},
	}
}

func principalIsEveryone(p any) bool {
	switch t := p.(type) {
	case string:
		return t == "*"
	case map[string]any:
		for _, v := range t {
			if slices.Contains(stringsOf(v), "*") {
				return true
			}
		}
	}
	return false
}

// openings lists a security-group rule's world-open port ranges.
type opening struct {
	from, to float64
	all      bool
}

func worldOpen(cidrs []string) bool {
	return slices.Contains(cidrs, worldIPv4) || slices.Contains(cidrs, worldIPv6)
}

// ingressOpenings reads the world-open ingress of any of the three shapes.
func openings(r *graph.Resource, direction string) []opening {
	var out []opening
	read := func(m map[string]any, cidrKeys ...string) {
		var cidrs []string
		for _, k := range cidrKeys {
			cidrs = append(cidrs, stringsOf(m[k])...)
		}
		if !worldOpen(cidrs) {
			return
		}
		proto := fmt.Sprint(m["protocol"])
		if p, ok := m["ipProtocol"]; ok {
			proto = fmt.Sprint(p)
		}
		from, _ := m["fromPort"].(float64)
		to, _ := m["toPort"].(float64)
		out = append(out, opening{from: from, to: to, all: proto == "-1" || proto == "all"})
	}
	switch r.Type {
	case securityGroup:
		for _, e := range list(r, direction) {
			m, _ := e.(map[string]any)
			read(m, "cidrBlocks", "ipv6CidrBlocks")
		}
	case sgRule:
		if str(r, "type") == direction {
			read(r.Inputs, "cidrBlocks", "ipv6CidrBlocks")
		}
	case sgIngress:
		if direction == "ingress" {
			read(r.Inputs, "cidrIpv4", "cidrIpv6")
		}
	case sgEgress:
		if direction == "egress" {
			read(r.Inputs, "cidrIpv4", "cidrIpv6")
		}
	}
	return out
}

func networkRules() []Rule {
	groups := []string{securityGroup, sgRule, sgIngress}
	return []Rule{
		{ID: "NET-01", Title: "nothing world-open but 80/443", Severity: High, Types: groups, Anchors: "CK_AWS_24/277, TV-0107, KX, PC",
			Rationale: "SSH, PostgreSQL and Redis open to the internet are found and attacked within minutes.", Remediation: "Admit a security group or a CIDR you own.",
			Check: func(_ *Context, r *graph.Resource) string {
				for _, o := range openings(r, "ingress") {
					if o.all {
						return "all ports are open to the world"
					}
					for p := o.from; p <= o.to; p++ {
						if p != 80 && p != 443 {
							return fmt.Sprintf("port %g is open to the world", p)
						}
					}
				}
				return ""
			}},
		{ID: "NET-02", Title: "no unrestricted egress on all ports", Severity: Medium, Production: true, Types: []string{securityGroup, sgRule, sgEgress}, Anchors: "CK_AWS_382, TV-0104",
			Rationale: "Allow-all egress lets a compromised host exfiltrate anywhere.", Remediation: "Drop the allow-all egress rule; data services need none.",
			Check: func(_ *Context, r *graph.Resource) string {
				for _, o := range openings(r, "egress") {
					if o.all {
						return "all egress is allowed"
					}
				}
				return ""
			}},
		{ID: "NET-03", Title: "a flow log on the VPC", Severity: Medium, Types: []string{vpcType}, Anchors: "CK2_AWS_11, TV-0178",
			Rationale: "Flow logs are the record of who talked to what.", Remediation: "Attach an ec2.FlowLog to the VPC.",
			Check: func(c *Context, r *graph.Resource) string {
				return when(len(c.Dependents(r.URN, flowLog)) == 0, "no flow log")
			}},
		{ID: "NET-04", Title: "default security group has no rules", Severity: Medium, Types: []string{defaultSG}, Anchors: "CK2_AWS_12 (Trivy AWS-0173 in cloud scans only)",
			Rationale: "Anything placed in the default group by mistake must reach nothing.", Remediation: "Manage the default group with no rules.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(len(list(r, "ingress")) > 0 || len(list(r, "egress")) > 0, "the default security group has rules")
			}},
		{ID: "NET-05", Title: "private and database subnets map no public IP", Severity: High, Types: []string{subnetType}, Anchors: "CK_AWS_130, TV-0164",
			Rationale: "An instance in a private subnet with a public address is not private.", Remediation: "Set mapPublicIpOnLaunch false.",
			Check: func(_ *Context, r *graph.Resource) string {
				if str(r, "tags.tier") == "public" {
					return ""
				}
				return when(isTrue(r, "mapPublicIpOnLaunch"), "the subnet maps public IPs")
			}},
		{ID: "CW-01", Title: "log retention set (production ≥ 365 days, or a stated reason)", Severity: Low, Types: []string{logGroup}, Anchors: "CK_AWS_66/338",
			Rationale:   "Never-expiring logs cost forever; short ones miss the audit horizon unless someone decided they need not reach it.",
			Remediation: "Set retentionInDays; in production, a year or more, or a retention-reason tag (logging.retentionReason).",
			Check: func(c *Context, r *graph.Resource) string {
				n, _ := number(r, "retentionInDays")
				switch {
				case n <= 0:
					return "no retention"
				case c.Production && n < 365 && strings.TrimSpace(str(r, "tags.retention-reason")) == "":
					return fmt.Sprintf("retention %g days is below a year, with no retention-reason tag", n)
				}
				return ""
			}},
		{ID: "CW-02", Title: "log group encrypted with a KMS key", Severity: Medium, Production: true, Types: []string{logGroup}, Anchors: "CK_AWS_158, TV-0017",
			Rationale: "Logs carry request data; a customer key puts their reading under policy.", Remediation: "Set kmsKeyId (the logging component's key).",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(str(r, "kmsKeyId") == "", "not encrypted with a KMS key")
			}},
		{ID: "KMS-01", Title: "key rotation on", Severity: Medium, Types: []string{kmsKey}, Anchors: "CK_AWS_7, TV-0065",
			Rationale: "Rotation bounds what one leaked key version decrypts.", Remediation: "Set enableKeyRotation.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(!isTrue(r, "enableKeyRotation"), "rotation is off")
			}},
		{ID: "IAM-01", Title: "no Allow of * on *", Severity: High, Types: []string{iamPolicy, iamRolePolicy}, Anchors: "CK_AWS_1/62",
			Rationale: "Action * on resource * is administrator access by another name.", Remediation: "Name the actions and the resources.",
			Check: func(_ *Context, r *graph.Resource) string {
				doc, err := parseDocument(str(r, "policy"))
				if err != nil {
					return "policy does not parse: " + err.Error()
				}
				for _, st := range doc.Statement {
					if st.Effect == "Allow" && (slices.Contains(stringsOf(st.Action), "*") || slices.Contains(stringsOf(st.Action), "*:*")) &&
						slices.Contains(stringsOf(st.Resource), "*") {
						return "a statement allows * on *"
					}
				}
				return ""
			}},
		{ID: "IAM-02", Title: "IRSA trust pinned to one service account and to STS", Severity: High, Types: []string{iamRole}, Anchors: "EKS best practices",
			Rationale: "A trust without sub lets every service account of the cluster take the role.", Remediation: "Make IRSA roles with cluster.OIDC.NewRole.",
			Check: func(_ *Context, r *graph.Resource) string {
				statements, problem := federatedTrust(r, func(provider string) bool { return strings.Contains(provider, ":oidc-provider/oidc.eks.") })
				if problem != "" {
					return problem
				}
				for _, st := range statements {
					var sub, aud string
					for k, v := range st.Condition["StringEquals"] {
						switch {
						case strings.HasSuffix(k, ":sub"):
							sub = fmt.Sprint(v)
						case strings.HasSuffix(k, ":aud"):
							aud = fmt.Sprint(v)
						}
					}
					parts := strings.Split(sub, ":")
					if len(parts) != 4 || parts[0] != "system" || parts[1] != "serviceaccount" || parts[2] == "" || parts[3] == "" || strings.ContainsAny(sub, "*?") {
						return fmt.Sprintf("sub %q does not name one service account", sub)
					}
					if aud != "sts.amazonaws.com" {
						return fmt.Sprintf("aud %q is not sts.amazonaws.com", aud)
					}
				}
				return ""
			}},
		{ID: "BAK-01", Title: "backup vault encrypted with a KMS key", Severity: Medium, Types: []string{"aws:backup/vault:Vault"}, Anchors: "CK_AWS_166",
			Rationale: "Recovery points hold the whole database.", Remediation: "Set kmsKeyArn (components/dr does).",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(str(r, "kmsKeyArn") == "", "not encrypted with a KMS key")
			}},
		{ID: "BAK-02", Title: "recovery points copied to another region", Severity: Medium, Production: true, Types: []string{"aws:backup/plan:Plan"}, Anchors: "ours",
			Rationale: "A regional outage must not take the recovery points with it.", Remediation: "Give a rule a copy action to the DR region's vault.",
			Check: func(c *Context, r *graph.Resource) string {
				for _, rule := range list(r, "rules") {
					m, _ := rule.(map[string]any)
					actions, _ := m["copyActions"].([]any)
					for _, a := range actions {
						dest, _ := a.(map[string]any)["destinationVaultArn"].(string)
						if parts := strings.Split(dest, ":"); len(parts) > 3 && parts[3] != c.region() {
							return ""
						}
					}
				}
				return "no rule copies to another region"
			}},
		{ID: "SNS-01", Title: "topic encrypted with a KMS key", Severity: Medium, Types: []string{snsTopic}, Anchors: "CK_AWS_26",
			Rationale: "Alarm messages name the systems and their weaknesses.", Remediation: "Set kmsMasterKeyId.",
			Check: func(_ *Context, r *graph.Resource) string {
				return when(str(r, "kmsMasterKeyId") == "", "not encrypted")
			}},
	}
}
