package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BootstrapProject is the bootstrap project's name and configuration
// namespace: run once per AWS account, before any stack of the platform.
const BootstrapProject = "personalization-bootstrap"

// PreviewRoleName is the role pull-request workflows assume.
const PreviewRoleName = Project + "-preview"

// BreakGlassRoleName is the role people assume, with MFA, to administer a
// cluster by hand when the pipelines cannot (docs/operations.md).
const BreakGlassRoleName = Project + "-breakglass"

// RunnerProject is the CodeBuild project of the deploy runners: the
// repository variable RUNNER_PROJECT, and the workflows' runs-on label
// codebuild-<RunnerProject>-<run id>-<attempt>.
const RunnerProject = Project + "-runners"

// DeploySessionSeconds is how long the pipelines' role sessions may last:
// production's first apply along its critical path, with a margin, rounded
// up to the hour (derived from the render in timing/; the deploy workflow's
// role-duration-seconds and timeout say the same).
const DeploySessionSeconds = 3 * 3600

// GitHubTokenKey is the bootstrap's secret: a GitHub token with which
// CodeBuild registers the runners' webhook on the repository.
const GitHubTokenKey = "githubToken"

// Bootstrap is what one AWS account needs before the platform's stacks and
// pipelines can run: where the state lives, what encrypts its secrets, and
// which roles the GitHub workflows assume.
type Bootstrap struct {
	Stack  string
	Region string
	// AccountID is the account the roles and the bucket live in.
	AccountID string `json:"accountId"`
	// Repository is the GitHub repository ("owner/name") whose workflows
	// may assume the roles.
	Repository string `json:"repository"`
	// Environments get a deploy role each, assumable only by the
	// workflow jobs of the GitHub environment of the same name.
	Environments []Environment `json:"environments"`
	// PreviewPolicyARNs and DeployPolicyARNs are the managed policies of
	// the preview role and of each deploy role.
	PreviewPolicyARNs []string `json:"previewPolicyArns"`
	DeployPolicyARNs  []string `json:"deployPolicyArns"`
	// StateNoncurrentDays keeps old versions of state files.
	StateNoncurrentDays int `json:"stateNoncurrentDays"`
	// RunnerCIDR is the runners' VPC; RunnerComputeType and RunnerImage
	// their CodeBuild environment.
	RunnerCIDR        string `json:"runnerCidr"`
	RunnerComputeType string `json:"runnerComputeType"`
	RunnerImage       string `json:"runnerImage"`
	// Waivers accept a failing rule (ours or Trivy's) on one resource of
	// the bootstrap, each for a reason, as a stack's policy.waivers do.
	Waivers []Waiver `json:"waivers"`
	// GitHubToken registers the runners' webhook; secret, never in JSON.
	GitHubToken string `json:"-"`
}

// BootstrapKeys are the bootstrap project's configuration keys.
func BootstrapKeys() []string {
	return []string{"accountId", "repository", "environments", "previewPolicyArns", "deployPolicyArns", "stateNoncurrentDays",
		"runnerCidr", "runnerComputeType", "runnerImage", "waivers"}
}

// LoadBootstrap reads the running bootstrap stack's configuration.
func LoadBootstrap(ctx *pulumi.Context) (*Bootstrap, error) {
	return ParseBootstrap(ctx.Stack(), contextSource{ctx})
}

// ParseBootstrap builds the bootstrap profile: defaults, the stack's
// values, then validation, every problem one FieldError naming its key.
func ParseBootstrap(stack string, src Source) (*Bootstrap, error) {
	b := &Bootstrap{
		Stack:        stack,
		Environments: Environments(),
		// Preview reads everything and changes nothing.
		PreviewPolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
		// Deploy creates the whole platform, IAM roles included.
		DeployPolicyARNs:    []string{"arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/IAMFullAccess"},
		StateNoncurrentDays: 90,
		// Apart from every stack's 10.0/16, 10.20/16 and 10.30/16, so
		// the networks may be peered one day.
		RunnerCIDR:        "10.250.0.0/20",
		RunnerComputeType: "BUILD_GENERAL1_MEDIUM",
		RunnerImage:       "aws/codebuild/amazonlinux-x86_64-standard:5.0",
		Waivers:           []Waiver{},
	}
	var errs []error
	region, ok := src.Get(RegionKey)
	if !ok {
		errs = append(errs, &FieldError{Key: RegionKey, Problem: "is not set", Allowed: `an AWS region such as "eu-west-1"`})
	}
	b.Region = region
	targets := map[string]any{
		"accountId": &b.AccountID, "repository": &b.Repository, "environments": &b.Environments,
		"previewPolicyArns": &b.PreviewPolicyARNs, "deployPolicyArns": &b.DeployPolicyARNs, "stateNoncurrentDays": &b.StateNoncurrentDays,
		"runnerCidr": &b.RunnerCIDR, "runnerComputeType": &b.RunnerComputeType, "runnerImage": &b.RunnerImage,
		"waivers": &b.Waivers,
	}
	for _, k := range BootstrapKeys() {
		raw, ok := src.Get(BootstrapProject + ":" + k)
		if !ok {
			continue
		}
		target := targets[k]
		if _, isString := target.(*string); isString {
			*target.(*string) = raw
			continue
		}
		if err := json.Unmarshal([]byte(raw), target); err != nil {
			errs = append(errs, &FieldError{Key: BootstrapProject + ":" + k, Value: raw, Problem: "does not parse: " + err.Error(), Allowed: bootstrapAllowed[k]})
		}
	}
	token, ok := src.Get(BootstrapProject + ":" + GitHubTokenKey)
	switch {
	case !ok || token == "":
		errs = append(errs, &FieldError{Key: BootstrapProject + ":" + GitHubTokenKey, Problem: "is not set",
			Allowed: bootstrapAllowed[GitHubTokenKey] + " (pulumi config set --secret " + GitHubTokenKey + " <token>)"})
	case !src.IsSecret(BootstrapProject + ":" + GitHubTokenKey):
		errs = append(errs, &FieldError{Key: BootstrapProject + ":" + GitHubTokenKey, Problem: "is set in plain text",
			Allowed: "the same value set as a secret (pulumi config set --secret " + GitHubTokenKey + " <token>)"})
	}
	b.GitHubToken = token
	if len(errs) == 0 {
		for _, err := range b.validate() {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return b, nil
}

var bootstrapAllowed = map[string]string{
	"accountId":           "the AWS account id, 12 digits",
	"repository":          `the GitHub repository as "owner/name", such as "acme/personalization-platform"`,
	"environments":        fmt.Sprintf("a list of %s", oneOf(Environments())),
	"previewPolicyArns":   "a list of IAM managed policy ARNs",
	"deployPolicyArns":    "a list of IAM managed policy ARNs",
	"stateNoncurrentDays": "a whole number from 1 to 3650",
	"runnerCidr":          "a private (RFC 1918) IPv4 block from /16 to /20 that is not a stack's VPC, such as \"10.250.0.0/20\"",
	"runnerComputeType":   "a CodeBuild compute type: " + oneOf(runnerComputeTypes()),
	"runnerImage":         `a CodeBuild Linux image such as "aws/codebuild/amazonlinux-x86_64-standard:5.0"`,
	"waivers":             `a list of {"rule", "urn", "reason"} objects`,
	GitHubTokenKey:        "a GitHub token that may manage the repository's webhooks (fine-grained: Webhooks read and write)",
}

// runnerComputeTypes are CodeBuild's Linux container compute types.
func runnerComputeTypes() []string {
	return []string{"BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE"}
}

var (
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	repositoryPattern  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	policyARNPattern   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::(aws|[0-9]{12}):policy/[\w+=,.@/-]+$`)
	runnerImagePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*(:[\w][\w.-]{0,127})?$`)
)

// runnerCIDRProblem: the runners' VPC is private, sized for a handful of
// subnets, and apart from every tier's default VPC.
func runnerCIDRProblem(cidr string) string {
	prefix, err := netip.ParsePrefix(cidr)
	switch {
	case err != nil || !prefix.Addr().Is4():
		return "is not an IPv4 CIDR block"
	case prefix.Masked() != prefix:
		return fmt.Sprintf("has host bits set (the block is %s)", prefix.Masked())
	case !prefix.Addr().IsPrivate():
		return "is not a private range"
	case prefix.Bits() < 16 || prefix.Bits() > 20:
		return "is not from /16 to /20"
	}
	for _, env := range Environments() {
		if stack := netip.MustParsePrefix(Defaults(env).Network.CIDR); stack.Overlaps(prefix) {
			return "overlaps the " + string(env) + " tier's VPC " + stack.String()
		}
	}
	return ""
}

func (b *Bootstrap) validate() []*FieldError {
	var errs []*FieldError
	at := func(k string) string { return BootstrapProject + ":" + k }
	if err := validateRegion(b.Region); err != nil {
		errs = append(errs, err)
	}
	if !accountIDPattern.MatchString(b.AccountID) {
		errs = append(errs, &FieldError{Key: at("accountId"), Value: b.AccountID, Problem: "is not an AWS account id", Allowed: bootstrapAllowed["accountId"]})
	}
	if !repositoryPattern.MatchString(b.Repository) {
		errs = append(errs, &FieldError{Key: at("repository"), Value: b.Repository, Problem: "is not one GitHub repository", Allowed: bootstrapAllowed["repository"]})
	}
	if len(b.Environments) == 0 {
		errs = append(errs, &FieldError{Key: at("environments"), Problem: "is empty: no deploy role would exist", Allowed: bootstrapAllowed["environments"]})
	}
	for i, e := range b.Environments {
		if !slices.Contains(Environments(), e) || slices.Index(b.Environments, e) != i {
			errs = append(errs, &FieldError{Key: at(fmt.Sprintf("environments[%d]", i)), Value: string(e), Problem: "is not an environment, or is given twice", Allowed: bootstrapAllowed["environments"]})
		}
	}
	for k, arns := range map[string][]string{"previewPolicyArns": b.PreviewPolicyARNs, "deployPolicyArns": b.DeployPolicyARNs} {
		for i, arn := range arns {
			if !policyARNPattern.MatchString(arn) {
				errs = append(errs, &FieldError{Key: at(fmt.Sprintf("%s[%d]", k, i)), Value: arn, Problem: "is not an IAM policy ARN", Allowed: bootstrapAllowed[k]})
			}
		}
	}
	if err := intInRange(at("stateNoncurrentDays"), b.StateNoncurrentDays, 1, 3650); err != nil {
		errs = append(errs, err)
	}
	if problem := runnerCIDRProblem(b.RunnerCIDR); problem != "" {
		errs = append(errs, &FieldError{Key: at("runnerCidr"), Value: b.RunnerCIDR, Problem: problem, Allowed: bootstrapAllowed["runnerCidr"]})
	}
	if !slices.Contains(runnerComputeTypes(), b.RunnerComputeType) {
		errs = append(errs, &FieldError{Key: at("runnerComputeType"), Value: b.RunnerComputeType, Problem: "is not a CodeBuild compute type", Allowed: bootstrapAllowed["runnerComputeType"]})
	}
	errs = append(errs, validateWaivers(at("waivers"), b.Waivers)...)
	if !runnerImagePattern.MatchString(b.RunnerImage) {
		errs = append(errs, &FieldError{Key: at("runnerImage"), Value: b.RunnerImage, Problem: "is not an image reference", Allowed: bootstrapAllowed["runnerImage"]})
	}
	return errs
}
