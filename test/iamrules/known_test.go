package iamrules

import "github.com/zclconf/go-cty/cty"

const (
	testAccount = "123456789012"
	testRegion  = "eu-central-1"
)

// testKnown are the values an apply would read from the account: its id and
// partition, and the ARNs AWS gives the bootstrap's singletons.
func testKnown() Known {
	return Known{
		"data.aws_caller_identity.current.account_id":    cty.StringVal(testAccount),
		"data.aws_partition.current.partition":           cty.StringVal("aws"),
		"aws_iam_openid_connect_provider.github.arn":     cty.StringVal("arn:aws:iam::" + testAccount + ":oidc-provider/" + OIDCHost),
		"aws_s3_bucket.state.arn":                        cty.StringVal("arn:aws:s3:::orders-tfstate-" + testAccount + "-" + testRegion),
		"aws_kms_key.state.arn":                          cty.StringVal("arn:aws:kms:" + testRegion + ":" + testAccount + ":key/state"),
		"aws_ssm_parameter.cluster_admin_principals.arn": cty.StringVal("arn:aws:ssm:" + testRegion + ":" + testAccount + ":parameter/orders/cluster-admin-principal-arns"),
		"data.aws_ssm_parameter.admin_principals.value":  cty.StringVal("[]"),
		"data.aws_iam_session_context.caller.issuer_arn": cty.StringVal("arn:aws:iam::" + testAccount + ":role/admin"),
	}
}
