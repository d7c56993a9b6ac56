package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BootstrapProject is the bootstrap project's name and configuration
// namespace: run once per AWS account, before any stack of the platform.
const BootstrapProject = "personalization-bootstrap"

// PreviewRoleName is the role pull-request workflows assume.
const PreviewRoleName = Project + "-preview"

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
}

// BootstrapKeys are the bootstrap project's configuration keys.
func BootstrapKeys() []string {
	return []string{"accountId", "repository", "environments", "previewPolicyArns", "deployPolicyArns", "stateNoncurrentDays"}
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
}

var (
	accountIDPattern  = regexp.MustCompile(`^[0-9]{12}$`)
	repositoryPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	policyARNPattern  = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::(aws|[0-9]{12}):policy/[\w+=,.@/-]+$`)
)

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
	return errs
}
