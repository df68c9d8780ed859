"""The mock My Number card service: virtual cards for demo personas and a mock certificate
authority (JPKI) for the mock デジタル認証アプリ.

The cards belong to the demo's fictional people of portal.demo_data.people (shared with the
mock resident records; the My Numbers start with 1000 and carry a valid check digit).
`ca.MockCA` issues each persona's two card certificates, as on the real card: 利用者証明用
(authentication: a 4-digit PIN, no personal data in the certificate) and 署名用 (signature: a
6–16 character password, the four basic items 氏名・住所・生年月日・性別 in the certificate,
revoked when the holder moves). The OpenID Connect endpoints and the card-reader pages are built
on top of these, elsewhere. Its tables are outside the production schema (portal.mocks_db).
"""
