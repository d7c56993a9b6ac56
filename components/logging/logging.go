// Package logging holds what the platform's logs are kept with: the
// customer-managed KMS key every CloudWatch log group of the stack is
// encrypted with (policy CW-02). Log shipping from the nodes lands here
// with the logs-and-traces work.
package logging

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/keys"
	"github.com/personalization/platform/components/internal/policydoc"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:logging:Logging"

// Args configure the logging component.
type Args struct {
	// Name goes into the key's alias and description.
	Name      string
	Region    string
	AccountID string
	Protect   bool
}

// Logging is the stack's log encryption.
type Logging struct {
	pulumi.ResourceState

	// KeyARN encrypts every log group of the stack.
	KeyARN pulumi.StringOutput `pulumi:"keyArn"`
}

// New builds the component through the AWS provider in opts.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Logging, error) {
	if args == nil || args.Name == "" || args.Region == "" || args.AccountID == "" {
		return nil, errors.New("logging: args with a name, a region and an account are required")
	}
	l := &Logging{}
	if err := ctx.RegisterComponentResource(TypeToken, name, l, opts...); err != nil {
		return nil, fmt.Errorf("logging: register: %w", err)
	}
	key, err := keys.New(ctx, name+"-key", keys.Args{
		Alias:       args.Name + "-logs",
		Description: "CloudWatch Logs of " + args.Name,
		Policy:      pulumi.String(KeyPolicy(args.Region, args.AccountID).JSON()),
		Protect:     args.Protect,
	}, pulumi.Parent(l))
	if err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	l.KeyARN = key.Arn
	if err := ctx.RegisterResourceOutputs(l, pulumi.Map{"keyArn": l.KeyARN}); err != nil {
		return nil, fmt.Errorf("logging: register outputs: %w", err)
	}
	return l, nil
}

// KeyPolicy lets the account administer the key and CloudWatch Logs in the
// region use it for this account's log groups only.
func KeyPolicy(region, account string) policydoc.Document {
	return policydoc.New(
		policydoc.Statement{
			Sid: "AccountAdministers", Effect: "Allow",
			Principal: map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
			Action:    []string{"kms:*"}, Resource: []string{"*"},
		},
		policydoc.Statement{
			Sid: "CloudWatchLogsEncrypts", Effect: "Allow",
			Principal: map[string]any{"Service": "logs." + region + ".amazonaws.com"},
			Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
			Resource:  []string{"*"},
			Condition: map[string]map[string]any{"ArnLike": {
				"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:" + region + ":" + account + ":log-group:*",
			}},
		},
	)
}
