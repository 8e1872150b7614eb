package config

// LiteralSecrets returns the fields of c that hold a secret value written
// in the file instead of a reference (secret:NAME): a channel's signing
// key or SMTP password, and a webhook URL that is itself a credential
// (the fields validation warns about). A server that keeps phoenix.yaml
// refuses them, so the copy it stores holds no secret.
func (c *Config) LiteralSecrets() []string {
	var out []string
	for _, name := range sortedKeys(c.Notifications.Channels) {
		ch := c.Notifications.Channels[name]
		if ch == nil {
			continue
		}
		p := joinPath("notifications.channels", name)
		if ch.URL.Source == "" && secretURLRx.MatchString(ch.URL.Literal()) {
			out = append(out, p+".url")
		}
		if ch.Secret.Source == "" && ch.Secret.Literal() != "" {
			out = append(out, p+".secret")
		}
		if ch.SMTP != nil && ch.SMTP.Password.Source == "" && ch.SMTP.Password.Literal() != "" {
			out = append(out, p+".smtp.password")
		}
	}
	return out
}
