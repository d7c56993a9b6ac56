// Package network is the VPC component: subnets in every availability zone,
// internet and NAT gateways, routing, flow logs and an S3 gateway endpoint.
package network

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/components/internal/policydoc"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "personalization:network:Network"

// Args configure the network.
type Args struct {
	// NamePrefix goes into the Name tag of the VPC and its subnets, so they
	// read well in the AWS console ("personalization-production").
	NamePrefix string
	// Region is the AWS region the provider in scope deploys to; it names
	// the regional S3 endpoint service.
	Region string
	// CIDR is the VPC's IPv4 block; subnets are computed from it.
	CIDR string
	// Zones is how many availability zones the subnets span.
	Zones int
	// NATPerZone gives every zone its own NAT gateway; otherwise one NAT
	// gateway in the first zone serves all private subnets.
	NATPerZone bool
	// FlowLogRetentionDays is the flow-log group's retention.
	FlowLogRetentionDays int
	// FlowLogKMSKeyARN encrypts the flow-log group when set.
	FlowLogKMSKeyARN pulumi.StringInput
	// Protect protects the VPC: everything else of the platform lives in it.
	Protect bool
	// EgressTags go on the NAT gateways' Elastic IPs, so that whoever
	// allow-lists this network's egress can find its addresses by tag.
	EgressTags map[string]string
}

// Network is the VPC and everything routed through it.
type Network struct {
	pulumi.ResourceState

	VpcID             pulumi.IDOutput          `pulumi:"vpcId"`
	CIDR              pulumi.StringOutput      `pulumi:"cidr"`
	AvailabilityZones pulumi.StringArrayOutput `pulumi:"availabilityZones"`
	PublicSubnetIDs   pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	PrivateSubnetIDs  pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	DatabaseSubnetIDs pulumi.StringArrayOutput `pulumi:"databaseSubnetIds"`
	NATGatewayIDs     pulumi.StringArrayOutput `pulumi:"natGatewayIds"`
	// NATPublicIPs are the addresses the private subnets' traffic leaves by.
	NATPublicIPs     pulumi.StringArrayOutput `pulumi:"natPublicIps"`
	FlowLogGroupName pulumi.StringOutput      `pulumi:"flowLogGroupName"`

	// Zones are the availability zones used, in order; plain values, known
	// before deployment, so other components can lay themselves out by zone.
	Zones []string
	// The subnet blocks by tier, plain values from the subnet plan, for
	// network policies that name address ranges.
	PublicCIDRs, PrivateCIDRs, DatabaseCIDRs []string
}

// New builds the network. AWS resources take their provider from opts (the
// program passes one with the stack's default tags).
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Network, error) {
	if args == nil || args.Region == "" {
		return nil, errors.New("network: args with a region are required")
	}
	vpcBlock, err := netip.ParsePrefix(args.CIDR)
	if err != nil {
		return nil, fmt.Errorf("network: VPC CIDR %q: %w", args.CIDR, err)
	}
	plan, err := PlanSubnets(vpcBlock, args.Zones)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}

	n := &Network{}
	if err := ctx.RegisterComponentResource(TypeToken, name, n, opts...); err != nil {
		return nil, fmt.Errorf("network: register: %w", err)
	}
	for _, z := range plan {
		n.PublicCIDRs = append(n.PublicCIDRs, z.Public.String())
		n.PrivateCIDRs = append(n.PrivateCIDRs, z.Private.String())
		n.DatabaseCIDRs = append(n.DatabaseCIDRs, z.Database.String())
	}
	b := &builder{ctx: ctx, name: name, args: args, parent: pulumi.Parent(n)}
	if err := b.build(n, plan); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":             n.VpcID,
		"cidr":              n.CIDR,
		"availabilityZones": n.AvailabilityZones,
		"publicSubnetIds":   n.PublicSubnetIDs,
		"privateSubnetIds":  n.PrivateSubnetIDs,
		"databaseSubnetIds": n.DatabaseSubnetIDs,
		"natGatewayIds":     n.NATGatewayIDs,
		"natPublicIps":      n.NATPublicIPs,
		"flowLogGroupName":  n.FlowLogGroupName,
	}); err != nil {
		return nil, fmt.Errorf("network: register outputs: %w", err)
	}
	return n, nil
}

type builder struct {
	ctx    *pulumi.Context
	name   string
	args   *Args
	parent pulumi.ResourceOrInvokeOption
}

func (b *builder) child(suffix string) string { return b.name + "-" + suffix }

func (b *builder) tags(suffix string, extra map[string]string) pulumi.StringMap {
	tags := pulumi.StringMap{"Name": pulumi.String(b.args.NamePrefix + "-" + suffix)}
	for k, v := range extra {
		tags[k] = pulumi.String(v)
	}
	return tags
}

func (b *builder) build(n *Network, plan []ZoneSubnets) error {
	zones, err := b.zones(len(plan))
	if err != nil {
		return err
	}
	n.Zones = zones

	vpc, err := ec2.NewVpc(b.ctx, b.child("vpc"), &ec2.VpcArgs{
		CidrBlock:          pulumi.String(b.args.CIDR),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               b.tags("vpc", nil),
	}, b.parent, pulumi.Protect(b.args.Protect))
	if err != nil {
		return fmt.Errorf("vpc: %w", err)
	}
	// Adopting the default security group with no rules closes it: nothing
	// placed in it by mistake can talk to anything (policy NET-04).
	if _, err := ec2.NewDefaultSecurityGroup(b.ctx, b.child("default-sg"), &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  b.tags("default-closed", nil),
	}, b.parent); err != nil {
		return fmt.Errorf("default security group: %w", err)
	}
	igw, err := ec2.NewInternetGateway(b.ctx, b.child("igw"), &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  b.tags("igw", nil),
	}, b.parent)
	if err != nil {
		return fmt.Errorf("internet gateway: %w", err)
	}

	subnets, err := b.subnets(vpc, zones, plan)
	if err != nil {
		return err
	}
	natIDs, natIPs, err := b.natGateways(subnets.public, igw)
	if err != nil {
		return err
	}
	routeTables, err := b.routing(vpc, igw, subnets, natIDs)
	if err != nil {
		return err
	}
	if _, err := ec2.NewVpcEndpoint(b.ctx, b.child("s3-endpoint"), &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.String("com.amazonaws." + b.args.Region + ".s3"),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   routeTables,
		Tags:            b.tags("s3-endpoint", nil),
	}, b.parent); err != nil {
		return fmt.Errorf("s3 endpoint: %w", err)
	}
	logGroup, err := b.flowLogs(vpc)
	if err != nil {
		return err
	}

	n.VpcID = vpc.ID()
	n.CIDR = vpc.CidrBlock
	n.AvailabilityZones = pulumi.ToStringArray(zones).ToStringArrayOutput()
	n.PublicSubnetIDs = idsOf(subnets.public)
	n.PrivateSubnetIDs = idsOf(subnets.private)
	n.DatabaseSubnetIDs = idsOf(subnets.database)
	n.NATGatewayIDs = natIDs.ToStringArrayOutput()
	n.NATPublicIPs = natIPs.ToStringArrayOutput()
	n.FlowLogGroupName = logGroup.Name
	return nil
}

// zones picks the first count available zones of the region, sorted, leaving
// out Local and Wavelength Zones (they need opting in and lack services).
func (b *builder) zones(count int) ([]string, error) {
	res, err := aws.GetAvailabilityZones(b.ctx, &aws.GetAvailabilityZonesArgs{
		State: pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{
			{Name: "opt-in-status", Values: []string{"opt-in-not-required"}},
		},
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("availability zones: %w", err)
	}
	names := append([]string(nil), res.Names...)
	sort.Strings(names)
	if len(names) < count {
		return nil, fmt.Errorf("availability zones: the region has %d (%v), the profile asks for %d", len(names), names, count)
	}
	return names[:count], nil
}

type subnetSet struct {
	public, private, database []*ec2.Subnet
}

func (b *builder) subnets(vpc *ec2.Vpc, zones []string, plan []ZoneSubnets) (*subnetSet, error) {
	set := &subnetSet{}
	for i, zone := range plan {
		az := fmt.Sprintf("az%d", i+1)
		tiers := []struct {
			tier  string
			block netip.Prefix
			tags  map[string]string
			into  *[]*ec2.Subnet
		}{
			// The role tags tell the AWS Load Balancer Controller where
			// internet-facing and internal load balancers go.
			{"public", zone.Public, map[string]string{"kubernetes.io/role/elb": "1", "tier": "public"}, &set.public},
			{"private", zone.Private, map[string]string{"kubernetes.io/role/internal-elb": "1", "tier": "private"}, &set.private},
			{"database", zone.Database, map[string]string{"tier": "database"}, &set.database},
		}
		for _, t := range tiers {
			suffix := t.tier + "-" + az
			s, err := ec2.NewSubnet(b.ctx, b.child(suffix), &ec2.SubnetArgs{
				VpcId:            vpc.ID(),
				CidrBlock:        pulumi.String(t.block.String()),
				AvailabilityZone: pulumi.String(zones[i]),
				// No subnet hands out public addresses: load balancers and
				// NAT gateways bring their own (policy NET-05).
				MapPublicIpOnLaunch: pulumi.Bool(false),
				Tags:                b.tags(suffix, t.tags),
			}, b.parent)
			if err != nil {
				return nil, fmt.Errorf("subnet %s: %w", suffix, err)
			}
			*t.into = append(*t.into, s)
		}
	}
	return set, nil
}

// natGateways makes one NAT gateway per zone, or one in the first zone.
func (b *builder) natGateways(public []*ec2.Subnet, igw *ec2.InternetGateway) (ids, ips pulumi.StringArray, err error) {
	count := 1
	if b.args.NATPerZone {
		count = len(public)
	}
	for i := range count {
		az := fmt.Sprintf("az%d", i+1)
		eip, err := ec2.NewEip(b.ctx, b.child("nat-eip-"+az), &ec2.EipArgs{
			Domain: pulumi.String("vpc"),
			Tags:   b.tags("nat-"+az, b.args.EgressTags),
		}, b.parent, pulumi.DependsOn([]pulumi.Resource{igw}))
		if err != nil {
			return nil, nil, fmt.Errorf("nat eip %s: %w", az, err)
		}
		nat, err := ec2.NewNatGateway(b.ctx, b.child("nat-"+az), &ec2.NatGatewayArgs{
			AllocationId: eip.ID(),
			SubnetId:     public[i].ID(),
			Tags:         b.tags("nat-"+az, nil),
		}, b.parent, pulumi.DependsOn([]pulumi.Resource{igw}))
		if err != nil {
			return nil, nil, fmt.Errorf("nat gateway %s: %w", az, err)
		}
		ids = append(ids, nat.ID().ToStringOutput())
		ips = append(ips, eip.PublicIp)
	}
	return ids, ips, nil
}

// routing: public subnets reach the internet gateway; each private subnet
// leaves through its zone's NAT gateway (or the single one); database
// subnets have no route out at all. It returns the private and database
// route tables, which the S3 gateway endpoint serves.
func (b *builder) routing(vpc *ec2.Vpc, igw *ec2.InternetGateway, subnets *subnetSet, natIDs pulumi.StringArray) (pulumi.StringArray, error) {
	public, err := ec2.NewRouteTable(b.ctx, b.child("public-rt"), &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Routes: ec2.RouteTableRouteArray{
			ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()},
		},
		Tags: b.tags("public", nil),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("public route table: %w", err)
	}
	if err := b.associate("public", subnets.public, func(int) *ec2.RouteTable { return public }); err != nil {
		return nil, err
	}

	var endpointTables pulumi.StringArray
	private := make([]*ec2.RouteTable, len(subnets.private))
	for i := range subnets.private {
		az := fmt.Sprintf("az%d", i+1)
		nat := natIDs[min(i, len(natIDs)-1)]
		rt, err := ec2.NewRouteTable(b.ctx, b.child("private-rt-"+az), &ec2.RouteTableArgs{
			VpcId: vpc.ID(),
			Routes: ec2.RouteTableRouteArray{
				ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat},
			},
			Tags: b.tags("private-"+az, nil),
		}, b.parent)
		if err != nil {
			return nil, fmt.Errorf("private route table %s: %w", az, err)
		}
		private[i] = rt
		endpointTables = append(endpointTables, rt.ID().ToStringOutput())
	}
	if err := b.associate("private", subnets.private, func(i int) *ec2.RouteTable { return private[i] }); err != nil {
		return nil, err
	}

	database, err := ec2.NewRouteTable(b.ctx, b.child("database-rt"), &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Tags:  b.tags("database", nil),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("database route table: %w", err)
	}
	if err := b.associate("database", subnets.database, func(int) *ec2.RouteTable { return database }); err != nil {
		return nil, err
	}
	endpointTables = append(endpointTables, database.ID().ToStringOutput())
	return endpointTables, nil
}

func (b *builder) associate(tier string, subnets []*ec2.Subnet, table func(int) *ec2.RouteTable) error {
	for i, s := range subnets {
		suffix := fmt.Sprintf("%s-rta-az%d", tier, i+1)
		if _, err := ec2.NewRouteTableAssociation(b.ctx, b.child(suffix), &ec2.RouteTableAssociationArgs{
			SubnetId:     s.ID(),
			RouteTableId: table(i).ID(),
		}, b.parent); err != nil {
			return fmt.Errorf("route table association %s: %w", suffix, err)
		}
	}
	return nil
}

// flowLogs sends every accepted and rejected flow of the VPC to a log group
// the program owns, so its retention and encryption are under code.
func (b *builder) flowLogs(vpc *ec2.Vpc) (*cloudwatch.LogGroup, error) {
	group, err := cloudwatch.NewLogGroup(b.ctx, b.child("flow-logs"), &cloudwatch.LogGroupArgs{
		RetentionInDays: pulumi.Int(b.args.FlowLogRetentionDays),
		KmsKeyId:        b.args.FlowLogKMSKeyARN,
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("flow log group: %w", err)
	}
	account, err := aws.GetCallerIdentity(b.ctx, &aws.GetCallerIdentityArgs{}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("caller identity: %w", err)
	}
	role, err := iam.NewRole(b.ctx, b.child("flow-logs"), &iam.RoleArgs{
		Description:      pulumi.String("Delivers the VPC's flow logs to CloudWatch Logs"),
		AssumeRolePolicy: pulumi.String(policydoc.ServiceTrust("vpc-flow-logs.amazonaws.com", account.AccountId).JSON()),
	}, b.parent)
	if err != nil {
		return nil, fmt.Errorf("flow log role: %w", err)
	}
	if _, err := iam.NewRolePolicy(b.ctx, b.child("flow-logs"), &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: group.Arn.ApplyT(func(arn string) string {
			return policydoc.New(policydoc.Statement{
				Effect:   "Allow",
				Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
				Resource: []string{arn, arn + ":*"},
			}).JSON()
		}).(pulumi.StringOutput),
	}, b.parent); err != nil {
		return nil, fmt.Errorf("flow log role policy: %w", err)
	}
	if _, err := ec2.NewFlowLog(b.ctx, b.child("flow-log"), &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
	}, b.parent); err != nil {
		return nil, fmt.Errorf("flow log: %w", err)
	}
	return group, nil
}

func idsOf(subnets []*ec2.Subnet) pulumi.StringArrayOutput {
	ids := make(pulumi.StringArray, len(subnets))
	for i, s := range subnets {
		ids[i] = s.ID().ToStringOutput()
	}
	return ids.ToStringArrayOutput()
}
