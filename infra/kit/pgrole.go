package kit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scrolluniversity/platform/infra/pgauth"
)

// roleSaltBytes is the SCRAM salt's length, as PostgreSQL makes it.
const roleSaltBytes = 16

// RoleCredentials are a PostgreSQL role's generated password (for its
// client) and the SCRAM-SHA-256 verifier a Job sets it with, so that the
// password never reaches the server. Both are secret.
type RoleCredentials struct {
	Password, Verifier pulumi.StringOutput
}

// NewRoleCredentials generates a role's password (name) and salt
// (name-salt), both once per stack lifetime.
func NewRoleCredentials(ctx *pulumi.Context, name string, passwordLength int, opts ...pulumi.ResourceOption) (RoleCredentials, error) {
	password, err := random.NewRandomPassword(ctx, name, &random.RandomPasswordArgs{
		Length: pulumi.Int(passwordLength), Special: pulumi.Bool(false),
	}, opts...)
	if err != nil {
		return RoleCredentials{}, fmt.Errorf("generating the password %s: %w", name, err)
	}
	salt, err := random.NewRandomBytes(ctx, name+"-salt", &random.RandomBytesArgs{Length: pulumi.Int(roleSaltBytes)}, opts...)
	if err != nil {
		return RoleCredentials{}, fmt.Errorf("generating the salt of %s: %w", name, err)
	}
	verifier := pulumi.ToSecret(pulumi.All(password.Result, salt.Base64).ApplyT(func(v []any) (string, error) {
		raw, err := base64.StdEncoding.DecodeString(v[1].(string))
		if err != nil {
			return "", fmt.Errorf("decoding the SCRAM salt of %s: %w", name, err)
		}
		return pgauth.ScramVerifier(v[0].(string), raw)
	})).(pulumi.StringOutput)
	return RoleCredentials{Password: password.Result, Verifier: verifier}, nil
}

// Checksum is a non-secret hash of the verifier and the SQL that sets it:
// a Job's pod template annotated with it is replaced (and runs again) when
// either changes.
func (c RoleCredentials) Checksum(sql string) pulumi.StringOutput {
	return pulumi.Unsecret(c.Verifier.ApplyT(func(v string) string {
		sum := sha256.Sum256([]byte(sql + "\x00" + v))
		return hex.EncodeToString(sum[:])
	})).(pulumi.StringOutput)
}
