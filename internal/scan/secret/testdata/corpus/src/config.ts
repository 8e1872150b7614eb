import { z } from "zod";

export const config = {
  apiKey: process.env.API_KEY,
  token: process.env.GITHUB_TOKEN ?? "",
  dbPassword: import.meta.env.VITE_DB_PASSWORD,
  keyboardShortcut: "Ctrl+Shift+K9+Alt+F12+Tab",
  authorName: "Phoenix Release Bot 2.0 <bot@phoenix.example.net>",
  tokenUrl: "https://login.microsoftonline.com/72f988bf/oauth2/v2.0/token",
};

const slackToken = "@@slack-bot@@";
const webhookSecret = "@@rand32@@";

export function headers(token: string) {
  return { Authorization: `Bearer ${token}`, "x-api-key": config.apiKey };
}

export const schema = z.object({ password: z.string().min(12), apiKey: z.string() });
