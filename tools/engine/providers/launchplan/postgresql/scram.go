package postgresql

// Role passwords leave this process only as SCRAM-SHA-256 verifiers (what
// psql's \password and libpq's PQencryptPasswordConn send), never in plain
// text: PostgreSQL logs a failing statement with its text
// (log_min_error_statement), and a verifier there reveals no password. The
// server stores a verifier as given. A refresh by a superuser checks the
// stored verifier against the password in the state.

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

const scramIterations = 4096

// isHashedPassword: md5 or SCRAM values are passed through as upstream does.
func isHashedPassword(p string) bool {
	return strings.HasPrefix(p, "SCRAM-SHA-256$") || (strings.HasPrefix(p, "md5") && len(p) == 35)
}

// passwordForSQL answers what goes after PASSWORD: a verifier for a plain
// password (ASCII; others go as typed, for the server's SASLprep).
func passwordForSQL(p string) (string, error) {
	if isHashedPassword(p) || !isASCII(p) {
		return literal(p), nil
	}
	v, err := scramVerifier(p, nil, scramIterations)
	if err != nil {
		return "", err
	}
	return literal(v), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func scramVerifier(password string, salt []byte, iterations int) (string, error) {
	if salt == nil {
		salt = make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return "", err
		}
	}
	stored, server, err := scramKeys(password, salt, iterations)
	if err != nil {
		return "", err
	}
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(stored), b64(server)), nil
}

func scramKeys(password string, salt []byte, iterations int) (stored, server []byte, err error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return nil, nil, err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	sum := sha256.Sum256(clientKey)
	return sum[:], mac(salted, "Server Key"), nil
}

// scramMatches: does the stored verifier belong to password?
func scramMatches(verifier, password string) bool {
	rest, ok := strings.CutPrefix(verifier, "SCRAM-SHA-256$")
	if !ok {
		return false
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	iterText, saltText, ok := strings.Cut(iterSalt, ":")
	if !ok {
		return false
	}
	storedText, serverText, ok := strings.Cut(keys, ":")
	if !ok {
		return false
	}
	iterations, err := strconv.Atoi(iterText)
	if err != nil || iterations <= 0 || iterations > 1<<22 {
		return false
	}
	dec := base64.StdEncoding.DecodeString
	salt, err1 := dec(saltText)
	wantStored, err2 := dec(storedText)
	wantServer, err3 := dec(serverText)
	if err1 != nil || err2 != nil || err3 != nil {
		return false
	}
	stored, server, err := scramKeys(password, salt, iterations)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(stored, wantStored) == 1 && subtle.ConstantTimeCompare(server, wantServer) == 1
}
