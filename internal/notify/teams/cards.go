package teams

import (
	"strings"

	"github.com/phoenixvc/phoenix/internal/notify"
)

const maxFacts = 20

// Buttons a card shows at most: Teams renders 6 actions of an Adaptive
// Card and 4 of a connector card, dropping the rest (notify.SplitLinks).
const (
	maxActions     = 6
	maxCardActions = 4
)

// foldedText renders links as Markdown links, one per line, for the text
// of a card (both kinds of Teams card render Markdown links in text).
func foldedText(links []notify.Link) string {
	clean := strings.NewReplacer("[", "", "]", "", "(", "", ")", "")
	return notify.FoldLines(links, func(l notify.Link) string {
		return "- [" + clean.Replace(limit(l.Title, 100)) + "](" + l.URL + ")"
	})
}

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
	shown, folded := notify.SplitLinks(m.Links, maxActions)
	if len(folded) > 0 {
		body = append(body,
			map[string]any{"type": "TextBlock", "text": notify.FoldedTitle(folded), "weight": "bolder", "wrap": true},
			map[string]any{"type": "TextBlock", "text": foldedText(folded), "spacing": "none", "wrap": true})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
		"msteams": map[string]any{"width": "Full"},
	}
	if len(shown) > 0 {
		var actions []any
		for _, l := range shown {
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
	shown, folded := notify.SplitLinks(m.Links, maxCardActions)
	if len(folded) > 0 {
		text, _ := section["text"].(string)
		section["text"] = strings.TrimPrefix(text+"\n\n**"+notify.FoldedTitle(folded)+"**\n\n"+foldedText(folded), "\n\n")
	}
	card := map[string]any{
		"@type":      "MessageCard",
		"@context":   "https://schema.org/extensions",
		"summary":    limit(m.Title, 200),
		"themeColor": themeColor(m),
		"title":      limit(m.Title, 300),
		"sections":   []any{section},
	}
	if len(shown) > 0 {
		var actions []any
		for _, l := range shown {
			actions = append(actions, map[string]any{"@type": "OpenUri", "name": limit(l.Title, 60),
				"targets": []any{map[string]any{"os": "default", "uri": l.URL}}})
		}
		card["potentialAction"] = actions
	}
	return card
}
