// Package tenant names a tenant's resources and manages its MongoDB user.
//
// A tenant <name> lives in namespace tenant-<name> (releases tenant-<name>, chart
// charts/tenant, and orders), answers under /<name>/service1 and /<name>/service2 on
// the shared gateway, and keeps its data in database tenant_<name> (dashes become
// underscores) through MongoDB user tenant-<name>, which is created in that database
// with readWrite on it and nothing else (docs/tenants.md).
package tenant

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// NamespaceLabel carries the tenant's name on its namespace and objects.
const NamespaceLabel = "orders-platform/tenant"

// MongoDBClientLabel marks the namespaces whose orders pods MongoDB's NetworkPolicy
// admits (environments/*/values/mongodb.yaml, networkPolicy.ingressNSMatchLabels).
const MongoDBClientLabel = "orders-platform/mongodb-client"

// GatewayRoutesLabel marks the namespaces whose HTTPRoutes the shared Gateway should
// admit: orders and every tenant-<name> (charts/edge gateway.routeNamespaceLabels).
const GatewayRoutesLabel = "orders-platform/gateway-routes"

// DeployersGroup is the Kubernetes group of the identities that deploy tenants
// (the preview role's access entry: terraform/platform preview_kubernetes_groups):
// bound to creating namespaces, the one cluster-scoped verb a tenant needs.
const DeployersGroup = "orders:tenant-deployers"

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,18}[a-z0-9]$`)

// reserved are names a tenant cannot take: the platform's namespaces and release
// names, and the public contract's paths (a tenant "service1" would answer under
// /service1/service1, inside the platform's own route).
var reserved = []string{
	"default", "edge", "orders", "mongodb", "monitoring", "backup", "envoy-gateway-system",
	"service1", "service2", "tenant", "tenants", "system", "admin", "api", "metrics",
	"healthz", "livez", "readyz",
}

// reservedPrefixes are refused as prefixes of a name.
var reservedPrefixes = []string{"kube-", "tenant-", "envoy-"}

// Tenant is a checked tenant name.
type Tenant struct{ name string }

// Parse checks a tenant name: a DNS label of 2 to 20 characters (lower-case letters,
// digits and dashes, starting with a letter, not ending with a dash), and not a
// reserved name.
func Parse(name string) (Tenant, error) {
	if !nameRe.MatchString(name) {
		return Tenant{}, fmt.Errorf("tenant name %q: want 2 to 20 lower-case letters, digits or dashes, starting with a letter and not ending with a dash (e.g. acme, pr-123)", name)
	}
	for _, r := range reserved {
		if name == r {
			return Tenant{}, fmt.Errorf("tenant name %q is reserved for the platform (reserved: %s, and names starting with %s)", name, strings.Join(reserved, ", "), strings.Join(reservedPrefixes, ", "))
		}
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(name, p) {
			return Tenant{}, fmt.Errorf("tenant name %q: names starting with %q are reserved", name, p)
		}
	}
	return Tenant{name: name}, nil
}

// Name is the tenant's name.
func (t Tenant) Name() string { return t.name }

// Namespace is tenant-<name>.
func (t Tenant) Namespace() string { return "tenant-" + t.name }

// Release is the release of charts/tenant: tenant-<name>, in Namespace.
func (t Tenant) Release() string { return "tenant-" + t.name }

// Database is tenant_<name> with dashes as underscores.
func (t Tenant) Database() string { return "tenant_" + strings.ReplaceAll(t.name, "-", "_") }

// User is the MongoDB user tenant-<name>, defined in Database.
func (t Tenant) User() string { return "tenant-" + t.name }

// PathPrefix is the tenant's prefix on the gateway: /<name>.
func (t Tenant) PathPrefix() string { return "/" + t.name }

// Users manages tenants' MongoDB users through an administrative connection (root).
type Users struct {
	Client *mongo.Client
}

// ReadWriteOn is the one role of a tenant's user: readWrite on its own database.
func ReadWriteOn(db string) bson.A {
	return bson.A{bson.D{{Key: "role", Value: "readWrite"}, {Key: "db", Value: db}}}
}

// MongoDB error codes the removal tolerates.
const (
	codeUserNotFound      = 11
	codeNamespaceNotFound = 26
)

// Exists tells whether the tenant's user exists in its database.
func (u Users) Exists(ctx context.Context, t Tenant) (bool, error) {
	var res struct {
		Users []bson.Raw `bson:"users"`
	}
	if err := u.Client.Database(t.Database()).RunCommand(ctx, usersInfoCommand(t)).Decode(&res); err != nil {
		return false, fmt.Errorf("MongoDB: look up user %s in database %s: %w", t.User(), t.Database(), err)
	}
	return len(res.Users) > 0, nil
}

// Ensure creates the tenant's user with password, or, when it exists, sets its
// password and roles (so a rerun with the password in use changes nothing for the
// running services, and roles granted by hand are taken away). It returns
// "created" or "updated". The password appears in no error.
func (u Users) Ensure(ctx context.Context, t Tenant, password string) (string, error) {
	if password == "" {
		return "", errors.New("MongoDB: empty password for tenant user " + t.User())
	}
	exists, err := u.Exists(ctx, t)
	if err != nil {
		return "", err
	}
	verb, action := "createUser", "created"
	if exists {
		verb, action = "updateUser", "updated"
	}
	if err := u.Client.Database(t.Database()).RunCommand(ctx, userCommand(verb, t, password, ReadWriteOn(t.Database()))).Err(); err != nil {
		return "", fmt.Errorf("MongoDB: %s %s in database %s: %w", verb, t.User(), t.Database(), redact(err, password))
	}
	return action, nil
}

// Remove drops the tenant's user and database; what is already gone is not an error.
func (u Users) Remove(ctx context.Context, t Tenant) error {
	db := u.Client.Database(t.Database())
	err := db.RunCommand(ctx, dropUserCommand(t)).Err()
	var ce mongo.CommandError
	if err != nil && !(errors.As(err, &ce) && ce.Code == codeUserNotFound) {
		return fmt.Errorf("MongoDB: drop user %s in database %s: %w", t.User(), t.Database(), err)
	}
	if err := db.Drop(ctx); err != nil && !(errors.As(err, &ce) && ce.Code == codeNamespaceNotFound) {
		return fmt.Errorf("MongoDB: drop database %s: %w", t.Database(), err)
	}
	return nil
}

// The commands, run on the tenant's database (so the user is defined there and
// authenticates with authSource=<database>).
func usersInfoCommand(t Tenant) bson.D {
	return bson.D{{Key: "usersInfo", Value: bson.D{{Key: "user", Value: t.User()}, {Key: "db", Value: t.Database()}}}}
}

// userCommand is createUser or updateUser: both set the password and the complete role list.
func userCommand(verb string, t Tenant, password string, roles bson.A) bson.D {
	return bson.D{{Key: verb, Value: t.User()}, {Key: "pwd", Value: password}, {Key: "roles", Value: roles}}
}

func dropUserCommand(t Tenant) bson.D { return bson.D{{Key: "dropUser", Value: t.User()}} }

// redact keeps a password out of a server's error message.
func redact(err error, password string) error {
	if password != "" && strings.Contains(err.Error(), password) {
		return errors.New(strings.ReplaceAll(err.Error(), password, "<redacted>"))
	}
	return err
}
