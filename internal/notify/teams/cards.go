package teams

import (
	"github.com/phoenixvc/phoenix/internal/notify"
)

const maxFacts = 20

// AdaptiveCard returns m as an Adaptive Card 1.4 (the content of the
// Workflows attachment). It uses only elements every Teams client renders:
// TextBlock, FactSet and Action.OpenUrl.
func AdaptiveCard(m notify.Message) map[string]any {
	body := []any{
		map[string]any{"type": "TextBlock", "text": limit(m.Title, 300), "weight": "bolder",
			"size": "medium", "color": textColor(m), "wrap": true},
		map[string]any{"type": "TextBlock", "text": subtitle(m), "isSubtle": true, "spacing": "none", "wrap": true},
	}
	if m.Text != "" {
		body = append(body, map[string]any{"type": "TextBlock", "text": limit(m.Text, 4000), "wrap": true})
	}
	if len(m.Facts) > 0 {
		facts := []any{}
		for i, f := range m.Facts {
			if i == maxFacts {
				break
			}
			facts = append(facts, map[string]any{"title": limit(f.Name, 100), "value": limit(f.Value, 500)})
		}
		body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
		"msteams": map[string]any{"width": "Full"},
	}
	if len(m.Links) > 0 {
		var actions []any
		for i, l := range m.Links {
			if i == 6 { // Teams shows at most 6 actions
				break
			}
			actions = append(actions, map[string]any{"type": "Action.OpenUrl", "title": limit(l.Title, 60), "url": l.URL})
		}
		card["actions"] = actions
	}
	return card
}

// messageCard returns m as a legacy connector MessageCard.
func messageCard(m notify.Message) map[string]any {
	section := map[string]any{
		"activityTitle":    limit(m.Title, 300),
		"activitySubtitle": subtitle(m),
		"markdown":         true,
	}
	if m.Text != "" {
		section["text"] = limit(m.Text, 4000)
	}
	if len(m.Facts) > 0 {
		facts := []any{}
		for i, f := range m.Facts {
			if i == maxFacts {
				break
			}
			facts = append(facts, map[string]any{"name": limit(f.Name, 100), "value": limit(f.Value, 500)})
		}
		section["facts"] = facts
	}
	card := map[string]any{
		"@type":      "MessageCard",
		"@context":   "https://schema.org/extensions",
		"summary":    limit(m.Title, 200),
		"themeColor": themeColor(m),
		"title":      limit(m.Title, 300),
		"sections":   []any{section},
	}
	if len(m.Links) > 0 {
		var actions []any
		for i, l := range m.Links {
			if i == 4 { // connector cards show at most 4 buttons
				break
			}
			actions = append(actions, map[string]any{"@type": "OpenUri", "name": limit(l.Title, 60),
				"targets": []any{map[string]any{"os": "default", "uri": l.URL}}})
		}
		card["potentialAction"] = actions
	}
	return card
}
