package deploy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// Names of the Secrets and keys (charts/README.md, "How the services get the MongoDB
// connection string").
const (
	MongoAuthSecret   = "mongodb-auth"
	KeyRootPassword   = "mongodb-root-password"
	KeyPasswords      = "mongodb-passwords"
	KeyReplicaSetKey  = "mongodb-replica-set-key"
	OrdersMongoSecret = "orders-mongodb"
	KeyMongoURL       = "MONGODB_URL"
	// BackupMongoSecret is the backup chart's mongodb.existingSecret (key KeyMongoURL).
	BackupMongoSecret = "mongodb-backup"
	// PodAnnotationSecretHash rolls the services' pods when the connection string changes.
	PodAnnotationSecretHash = "checksum/mongodb-secret"
)

// Environment variables and the file format the CLI reads credentials from.
const (
	EnvRootPassword = "ORDERS_MONGODB_ROOT_PASSWORD"
	EnvAppPassword  = "ORDERS_MONGODB_APP_PASSWORD"
)

// Credentials are the MongoDB passwords. They never appear in values, logs or errors.
type Credentials struct {
	RootPassword string `json:"rootPassword"`
	AppPassword  string `json:"appPassword"`
}

// String hides the passwords from any accidental print.
func (c Credentials) String() string { return "Credentials{<redacted>}" }

// GoString hides the passwords from %#v.
func (c Credentials) GoString() string { return c.String() }

func (c Credentials) complete() bool { return c.RootPassword != "" && c.AppPassword != "" }

// LoadCredentials reads the passwords from a YAML/JSON file (rootPassword,
// appPassword) when file is set, else from the environment variables
// ORDERS_MONGODB_ROOT_PASSWORD and ORDERS_MONGODB_APP_PASSWORD. Both empty is
// not an error (local generates them); one of two is.
func LoadCredentials(file string, getenv func(string) string) (Credentials, error) {
	var c Credentials
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("credentials file: %w", err)
		}
		if err := yaml.UnmarshalStrict(b, &c); err != nil {
			// The YAML error may quote the file; do not repeat it.
			return Credentials{}, fmt.Errorf("credentials file %s: not a map with rootPassword and appPassword", file)
		}
	} else {
		c = Credentials{RootPassword: getenv(EnvRootPassword), AppPassword: getenv(EnvAppPassword)}
	}
	if (c.RootPassword == "") != (c.AppPassword == "") {
		return Credentials{}, errors.New("MongoDB credentials: give both the root and the application password, or neither")
	}
	return c, nil
}

// resolveCredentials returns the passwords to use: the given ones; or, where the
// environment allows it (local), those already in the cluster's mongodb-auth
// Secret, or new random ones. AWS environments must be given them (from Secrets Manager).
func resolveCredentials(ctx context.Context, kube kubernetes.Interface, env string, onAWS bool, ns string, given Credentials) (Credentials, error) {
	if given.complete() {
		return given, nil
	}
	if onAWS {
		return Credentials{}, fmt.Errorf("environment %s needs the MongoDB passwords from AWS Secrets Manager (%s and %s, or a credentials file)", env, EnvRootPassword, EnvAppPassword)
	}
	s, err := kube.CoreV1().Secrets(ns).Get(ctx, MongoAuthSecret, metav1.GetOptions{})
	switch {
	case err == nil && len(s.Data[KeyRootPassword]) > 0 && len(s.Data[KeyPasswords]) > 0:
		return Credentials{RootPassword: string(s.Data[KeyRootPassword]), AppPassword: strings.Split(string(s.Data[KeyPasswords]), ",")[0]}, nil
	case err != nil && !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err):
		return Credentials{}, fmt.Errorf("read Secret %s/%s: %w", ns, MongoAuthSecret, err)
	}
	return Credentials{RootPassword: randomSecret(24), AppPassword: randomSecret(24)}, nil
}

func randomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// secretHash is the pod annotation that rolls the services when the connection string changes.
func secretHash(mongoURL string) string {
	sum := sha256.Sum256([]byte(mongoURL))
	return hex.EncodeToString(sum[:])[:32]
}

// needsSecrets tells the releases that read the Secrets the deployer writes.
func needsSecrets(release string) bool {
	return release == MongoRelease || release == "orders" || release == "backup"
}

// backupSecret is where the backup chart reads its connection string.
type backupSecret struct{ Namespace, Name, Key string }

// backupSecretOf reads the backup release's mongodb.existingSecret and
// mongodb.secretKey (the chart's defaults when the values do not set them).
func backupSecretOf(s Step) *backupSecret {
	b := &backupSecret{Namespace: s.Namespace, Name: BackupMongoSecret, Key: KeyMongoURL}
	m, _ := s.Values["mongodb"].(map[string]any)
	if v, _ := m["existingSecret"].(string); v != "" {
		b.Name = v
	}
	if v, _ := m["secretKey"].(string); v != "" {
		b.Key = v
	}
	return b
}

// applySecrets creates or updates mongodb/mongodb-auth, orders/orders-mongodb and,
// when backup is set, the backup job's Secret, and returns their names. An
// existing replica-set key is kept; a missing one is generated.
//
// The backup job connects as the application user, not root: readWrite on the
// orders database is all a dump (find, listCollections) and a restore (drop,
// insert, the counter update) need, and a leaked backup Secret then exposes no
// more than the data the backups already hold. Root stays in mongodb-auth only.
func applySecrets(ctx context.Context, kube kubernetes.Interface, p *Plan, creds Credentials, ordersNS string, backup *backupSecret) ([]string, error) {
	auth := map[string][]byte{
		KeyRootPassword: []byte(creds.RootPassword),
		KeyPasswords:    []byte(creds.AppPassword),
	}
	if p.Mongo.ReplicaSet != "" {
		key := randomSecret(48)
		if old, err := kube.CoreV1().Secrets(p.Mongo.Namespace).Get(ctx, MongoAuthSecret, metav1.GetOptions{}); err == nil && len(old.Data[KeyReplicaSetKey]) > 0 {
			key = string(old.Data[KeyReplicaSetKey])
		}
		auth[KeyReplicaSetKey] = []byte(key)
	}
	if err := upsertSecret(ctx, kube, p.Mongo.Namespace, MongoAuthSecret, auth); err != nil {
		return nil, err
	}
	if err := upsertSecret(ctx, kube, ordersNS, OrdersMongoSecret, map[string][]byte{KeyMongoURL: []byte(p.Mongo.URL(creds.AppPassword))}); err != nil {
		return nil, err
	}
	written := []string{p.Mongo.Namespace + "/" + MongoAuthSecret, ordersNS + "/" + OrdersMongoSecret}
	if backup != nil {
		if err := upsertSecret(ctx, kube, backup.Namespace, backup.Name, map[string][]byte{backup.Key: []byte(p.Mongo.URL(creds.AppPassword))}); err != nil {
			return nil, err
		}
		written = append(written, backup.Namespace+"/"+backup.Name)
	}
	return written, nil
}

func upsertSecret(ctx context.Context, kube kubernetes.Interface, ns, name string, data map[string][]byte) error {
	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{
			"app.kubernetes.io/managed-by": "orders-deployer",
			"app.kubernetes.io/part-of":    "orders-platform",
		}},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
	old, err := kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := kube.CoreV1().Secrets(ns).Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create Secret %s/%s: %w", ns, name, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read Secret %s/%s: %w", ns, name, err)
	}
	old.Data = data
	if old.Labels == nil {
		old.Labels = map[string]string{}
	}
	for k, v := range want.Labels {
		old.Labels[k] = v
	}
	if _, err := kube.CoreV1().Secrets(ns).Update(ctx, old, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update Secret %s/%s: %w", ns, name, err)
	}
	return nil
}
