package action

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
)

// withConfigEnv adds the variables of a phoenix.yaml env map (build.env,
// tests.SUITE.env; path names it) to env, resolving secret:NAME (the
// secret source, asked as this step and masked) and env:NAME (the
// environment the step was given, so not the server's own credentials)
// as a step's env does; other values are literal.
func (d *Deps) withConfigEnv(ctx context.Context, sc *Context, env []string, vars map[string]string, path string) ([]string, error) {
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		v, err := d.envValue(ctx, sc, vars[k])
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", path, k, err)
		}
		env = withEnv(env, k+"="+v)
	}
	return env, nil
}

func (d *Deps) envValue(ctx context.Context, sc *Context, v string) (string, error) {
	if name, ok := strings.CutPrefix(v, "secret:"); ok {
		if d.Secrets == nil && sc.Secret == nil {
			return "", fmt.Errorf("no secret source: cannot fetch %s", name)
		}
		val, err := d.secret(ctx, sc, name)
		if err != nil {
			return "", err
		}
		if len(val) < executor.MinSecretLen {
			return "", fmt.Errorf("secret %s is shorter than %d characters and could not be hidden in logs", name, executor.MinSecretLen)
		}
		return val, nil
	}
	if name, ok := strings.CutPrefix(v, "env:"); ok {
		for i := len(sc.Env) - 1; i >= 0; i-- {
			if val, ok := strings.CutPrefix(sc.Env[i], name+"="); ok {
				if sc.Mask != nil {
					sc.Mask(val)
				}
				return val, nil
			}
		}
		return "", fmt.Errorf("environment variable %s is not set (or not passed to steps)", name)
	}
	return v, nil
}
