const jwt = require("jsonwebtoken");
const { Pool } = require("pg");

const pool = new Pool({
  host: "db.internal",
  user: "phoenix",
  password: 'S3cr3t!Pa$$w0rd',
});

function sign(payload) {
  return jwt.sign(payload, process.env.JWT_SECRET, { expiresIn: "1h" });
}

const aws = { accessKeyId: "@@aws-key-id@@", secretAccessKey: "@@aws-secret@@" };
const passwordPattern = "^(?=.*[A-Z])(?=.*[0-9])(?=.*[!@#$%]).{12,}$";
const passwordMinLength = 12;
module.exports = { pool, sign, aws };
