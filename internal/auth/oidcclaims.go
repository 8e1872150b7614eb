package auth

import (
	"errors"
	"fmt"
)

// MapClaims turns an ID token's claims into an Identity: sub is the
// subject, the first non-empty of nameClaims the name, email only when
// email_verified is true, and groupsClaim (a string or a list of
// strings) the groups. Claims of the wrong type are errors naming the
// claim. A groups claim that is missing because the provider moved it
// out of the token (Entra's "_claim_names" overage) leaves the groups
// unknown rather than empty.
func MapClaims(claims map[string]any, nameClaims []string, groupsClaim string) (Identity, error) {
	id := Identity{Provider: OIDCProviderName}
	sub, ok := claims["sub"].(string)
	if !ok || sub == "" || len(sub) > 255 {
		return id, errors.New(`claim "sub" is missing or not a string of 1 to 255 characters`)
	}
	id.Subject = sub
	for _, c := range nameClaims {
		if v, ok := claims[c].(string); ok && v != "" {
			id.Name = v
			break
		}
	}
	if id.Name == "" {
		return id, fmt.Errorf("none of the claims %q holds a user name", nameClaims)
	}
	if v, _ := claims["email_verified"].(bool); v {
		id.Email, _ = claims["email"].(string)
	}
	if groupsClaim == "" {
		return id, nil
	}
	switch g := claims[groupsClaim].(type) {
	case nil:
		names, _ := claims["_claim_names"].(map[string]any)
		_, id.groupsOverage = names[groupsClaim]
	case string:
		id.Groups = []string{g}
	case []any:
		for _, v := range g {
			s, ok := v.(string)
			if !ok {
				return id, fmt.Errorf("claim %q holds a %T, not a string", groupsClaim, v)
			}
			id.Groups = append(id.Groups, s)
		}
	default:
		return id, fmt.Errorf("claim %q is a %T, not a string or a list of strings", groupsClaim, g)
	}
	return id, nil
}

// MappedRoles returns the roles that groups map to under m, each once.
func MappedRoles(groups []string, m map[string]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range groups {
		if r, ok := m[g]; ok && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
