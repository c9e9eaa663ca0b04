package terraformrules

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/orders-platform/orders/internal/tfvars"
)

var (
	// accountID: a 12-digit number standing alone (AWS account ids).
	accountID = regexp.MustCompile(`(^|[^0-9A-Za-z])([0-9]{12})([^0-9A-Za-z]|$)`)
	// accessKeyID: AWS access key ids (long-term AKIA…, temporary ASIA…).
	accessKeyID = regexp.MustCompile(`\b(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`)
	// secretAccessKey: a 40-character secret next to a key-like name.
	secretAccessKey = regexp.MustCompile(`(?i)(secret_access_key|secret_key|aws_secret)[^\n]{0,20}["'][A-Za-z0-9/+=]{40}["']`)
	privateKey      = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)
	// secretName: attribute or variable names that hold credentials.
	secretName = regexp.MustCompile(`(?i)(password|passwd|passphrase|secret_string|secret_key|access_key|private_key|token|api_key)`)
)

// CheckLiterals reports credentials and account-specific values written in
// Terraform files: AWS account ids, access keys, secret keys and private keys
// anywhere (comments included); a literal string assigned to a password-like
// attribute or variable default; and, in *.tf files, AWS region names in
// expressions (regions are inputs: environments/<env>/terraform.tfvars and
// backend.hcl). Descriptions, error messages and comments may mention a region
// as an example.
func CheckLiterals(paths []string) []tfvars.Finding {
	var out []tfvars.Finding
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			out = append(out, tfvars.Finding{File: p, Line: 1, Check: "literals", Msg: err.Error()})
			continue
		}
		out = append(out, rawLiterals(p, src)...)
		f, fs, err := tfvars.ParseFile(p)
		if err != nil || f == nil {
			out = append(out, fs...)
			continue
		}
		isTF := filepath.Ext(p) == ".tf"
		walkAttributes(f.Body, nil, func(a *hclsyntax.Attribute, parents []*hclsyntax.Block) {
			out = append(out, attributeLiterals(f, a, parents, isTF)...)
		})
	}
	return out
}

func rawLiterals(path string, src []byte) []tfvars.Finding {
	var out []tfvars.Finding
	report := func(offset int, msg string) {
		out = append(out, tfvars.Finding{File: path, Line: 1 + bytes.Count(src[:offset], []byte("\n")), Check: "literals", Msg: msg})
	}
	for _, m := range accountID.FindAllSubmatchIndex(src, -1) {
		report(m[4], fmt.Sprintf("looks like an AWS account id (%s): use data.aws_caller_identity", src[m[4]:m[5]]))
	}
	for _, m := range accessKeyID.FindAllIndex(src, -1) {
		report(m[0], "AWS access key id written in code")
	}
	for _, m := range secretAccessKey.FindAllIndex(src, -1) {
		report(m[0], "AWS secret access key written in code")
	}
	for _, m := range privateKey.FindAllIndex(src, -1) {
		report(m[0], "private key written in code")
	}
	return out
}

// walkAttributes calls fn for every attribute in body and nested blocks.
func walkAttributes(body *hclsyntax.Body, parents []*hclsyntax.Block, fn func(*hclsyntax.Attribute, []*hclsyntax.Block)) {
	for _, a := range sortedAttributes(body) {
		fn(a, parents)
	}
	for _, b := range body.Blocks {
		walkAttributes(b.Body, append(parents[:len(parents):len(parents)], b), fn)
	}
}

func attributeLiterals(f *tfvars.File, a *hclsyntax.Attribute, parents []*hclsyntax.Block, isTF bool) []tfvars.Finding {
	var out []tfvars.Finding
	line := a.SrcRange.Start.Line

	// Password-like attribute (or variable default) with a literal value.
	name := a.Name
	if len(parents) == 1 && parents[0].Type == "variable" && a.Name == "default" && len(parents[0].Labels) == 1 {
		name = parents[0].Labels[0]
	}
	if secretName.MatchString(name) {
		if s, ok := tfvars.LiteralString(a.Expr); ok && s != "" {
			out = append(out, tfvars.Finding{File: f.Path, Line: line, Check: "literals",
				Msg: fmt.Sprintf("%q is set to a literal string: generate it (ephemeral random_password) or read it from Secrets Manager", name)})
		}
	}

	if !isTF || a.Name == "description" || a.Name == "error_message" {
		return out
	}
	rng := a.Expr.Range()
	expr := f.Src[rng.Start.Byte:rng.End.Byte]
	for _, m := range tfvars.RegionName.FindAllIndex(expr, -1) {
		l := rng.Start.Line + bytes.Count(expr[:m[0]], []byte("\n"))
		out = append(out, tfvars.Finding{File: f.Path, Line: l, Check: "literals",
			Msg: fmt.Sprintf("AWS region %q written in code: take it from var.region (set in environments/<env>/terraform.tfvars)", strings.TrimSpace(string(expr[m[0]:m[1]])))})
	}
	return out
}
