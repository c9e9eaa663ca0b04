package tenant

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The exact documents sent to MongoDB: the wire server used in tests (FerretDB)
// implements none of the user commands, so their shape is checked here.
func TestCommands(t *testing.T) {
	acme, err := Parse("pr-42")
	if err != nil {
		t.Fatal(err)
	}
	rw := bson.A{bson.D{{Key: "role", Value: "readWrite"}, {Key: "db", Value: "tenant_pr_42"}}}
	for _, tc := range []struct {
		name      string
		got, want bson.D
	}{
		{"usersInfo", usersInfoCommand(acme), bson.D{{Key: "usersInfo", Value: bson.D{{Key: "user", Value: "tenant-pr-42"}, {Key: "db", Value: "tenant_pr_42"}}}}},
		{"createUser", userCommand("createUser", acme, "pw", ReadWriteOn(acme.Database())),
			bson.D{{Key: "createUser", Value: "tenant-pr-42"}, {Key: "pwd", Value: "pw"}, {Key: "roles", Value: rw}}},
		{"updateUser", userCommand("updateUser", acme, "pw", ReadWriteOn(acme.Database())),
			bson.D{{Key: "updateUser", Value: "tenant-pr-42"}, {Key: "pwd", Value: "pw"}, {Key: "roles", Value: rw}}},
		{"dropUser", dropUserCommand(acme), bson.D{{Key: "dropUser", Value: "tenant-pr-42"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := bson.MarshalExtJSON(tc.got, true, false)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := bson.MarshalExtJSON(tc.want, true, false)
			if string(g) != string(w) {
				t.Errorf("command\n got %s\nwant %s", g, w)
			}
		})
	}
}
