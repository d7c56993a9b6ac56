package cluster

import "github.com/personalization/platform/components/internal/policydoc"

// loadBalancerControllerPolicy is the AWS Load Balancer Controller's
// policy, after the project's published iam_policy.json: read-only calls
// on everything, and changes only to load balancers, target groups and
// security groups the controller itself tagged with elbv2.k8s.aws/cluster.
func loadBalancerControllerPolicy() policydoc.Document {
	owned := map[string]map[string]any{"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}}
	creating := map[string]map[string]any{"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}
	return policydoc.New(
		policydoc.Statement{
			Sid: "ServiceLinkedRole", Effect: "Allow",
			Action:    []string{"iam:CreateServiceLinkedRole"},
			Resource:  []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
		},
		policydoc.Statement{
			Sid: "Read", Effect: "Allow",
			Action: []string{
				"ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
				"ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
				"ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
				"ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools",
				"ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:DescribeRouteTables",
				"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
				"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerCertificates",
				"elasticloadbalancing:DescribeSSLPolicies", "elasticloadbalancing:DescribeRules",
				"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
				"elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTags",
				"elasticloadbalancing:DescribeTrustStores", "elasticloadbalancing:DescribeListenerAttributes",
				"elasticloadbalancing:DescribeCapacityReservation",
				"acm:ListCertificates", "acm:DescribeCertificate", "iam:ListServerCertificates", "iam:GetServerCertificate",
				"cognito-idp:DescribeUserPoolClient", "waf-regional:GetWebACL", "waf-regional:GetWebACLForResource",
				"waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL", "wafv2:GetWebACL",
				"wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
				"shield:GetSubscriptionState", "shield:DescribeProtection", "shield:CreateProtection", "shield:DeleteProtection",
			},
			Resource: []string{"*"},
		},
		policydoc.Statement{
			Sid: "SecurityGroupRules", Effect: "Allow",
			Action:   []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"},
			Resource: []string{"*"},
		},
		policydoc.Statement{
			Sid: "CreateSecurityGroup", Effect: "Allow",
			Action: []string{"ec2:CreateSecurityGroup"}, Resource: []string{"*"},
		},
		policydoc.Statement{
			Sid: "TagNewSecurityGroup", Effect: "Allow",
			Action:   []string{"ec2:CreateTags"},
			Resource: []string{"arn:aws:ec2:*:*:security-group/*"},
			Condition: map[string]map[string]any{
				"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"},
				"Null":         {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
			},
		},
		policydoc.Statement{
			Sid: "ManageOwnSecurityGroups", Effect: "Allow",
			Action: []string{"ec2:CreateTags", "ec2:DeleteTags", "ec2:AuthorizeSecurityGroupIngress",
				"ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"},
			Resource:  []string{"arn:aws:ec2:*:*:security-group/*"},
			Condition: owned,
		},
		policydoc.Statement{
			Sid: "CreateLoadBalancers", Effect: "Allow",
			Action:    []string{"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"},
			Resource:  []string{"*"},
			Condition: creating,
		},
		policydoc.Statement{
			Sid: "Listeners", Effect: "Allow",
			Action: []string{"elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
				"elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule"},
			Resource: []string{"*"},
		},
		policydoc.Statement{
			Sid: "TagOwn", Effect: "Allow",
			Action: []string{"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
			Resource: []string{
				"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*",
				"arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*",
				"arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*/*",
			},
		},
		policydoc.Statement{
			Sid: "ModifyOwn", Effect: "Allow",
			Action: []string{
				"elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
				"elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
				"elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
				"elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
				"elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:ModifyCapacityReservation",
				"elasticloadbalancing:ModifyIpPools",
			},
			Resource:  []string{"*"},
			Condition: owned,
		},
		policydoc.Statement{
			Sid: "Targets", Effect: "Allow",
			Action:   []string{"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"},
			Resource: []string{"arn:aws:elasticloadbalancing:*:*:targetgroup/*/*"},
		},
		policydoc.Statement{
			Sid: "ListenersAndRules", Effect: "Allow",
			Action: []string{"elasticloadbalancing:SetWebAcl", "elasticloadbalancing:ModifyListener",
				"elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
				"elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities"},
			Resource: []string{"*"},
		},
	)
}
