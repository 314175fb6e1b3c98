/*
 * crs_defaults.c - gatehouse's default exclusions for the OWASP CRS 3.3
 * (`defaults on`, the default of a `waf` section).
 *
 * The CRS at paranoia 1 refuses ordinary traffic of today's sites: REST
 * methods, GraphQL documents, CSP reports, file PUTs, search boxes, and
 * free text (messages, comments, posts that mention SQL, commands or carry
 * HTML).  These rules clear those shapes, each under the narrowest
 * condition that does it, without losing an attack of the corpus or of the
 * held-out sets (tests/waf/holdout ... holdout16;
 * tests/waf/default-exclusions.md has the evidence and each default's
 * cost: the rules behind each false positive, before and after, measured
 * with nginx + ModSecurity and with gatehouse).  They load right
 * after crs-setup.conf (and the paranoia SecAction), before the CRS's own
 * rules, so a policy set in crs-setup.conf wins over D1 and D2 (they only
 * fill what is unset, as REQUEST-901 would).  Ids 90020-90069 and
 * 90080-90093 are these, 90070-90073 and 90075 gatehouse's SSRF
 * detection, 90074 and 90076 code in image uploads, 90100-90110 the
 * twelfth and thirteenth rounds' detections (XXE, Spring4Shell, serialized Java,
 * upload-name traversal, SQL in client-address headers and sort
 * parameters, actuator probes, DDE formulas, '?'-glob command paths, backtick substitutions,
 * template injection);
 * 90077-90079 are `allow_methods` and `allow_types` (waf.c), which add
 * to D1's and D2's lists.
 * `defaults off` gives the CRS exactly as shipped.
 */
#include "waf/waf.h"

#include <stdlib.h>

const char waf_crs_defaults[] =
	/* D1. REST methods: CRS 3.3 allows GET HEAD POST OPTIONS only (911100);
	 * the method policy is no attack test.  CONNECT, TRACE, TRACK and
	 * unregistered tokens stay refused.
	 * D47. ...and the registered WebDAV family: RFC 4918's PROPPATCH MKCOL
	 * COPY MOVE LOCK UNLOCK, RFC 3253's REPORT (CalDAV's and CardDAV's
	 * queries; the versioning methods stay out), RFC 4791's MKCALENDAR,
	 * RFC 5323's SEARCH.  Their XML bodies are parsed as XML as any XML
	 * body.  PROPFIND only with "Depth: 0" or "Depth: 1" (90064): what
	 * sync, calendar and Office clients send; one without Depth (infinite
	 * depth by RFC 4918) is a scanner's probe or a crawl of the tree.
	 * tx.gatehouse_dav says D1 filled the list (90064 keeps off a list
	 * set in crs-setup.conf). */
	"SecRule &TX:allowed_methods \"@eq 0\" \"id:90020,phase:1,pass,nolog,t:none,"
	"setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE "
	"PROPPATCH MKCOL COPY MOVE LOCK UNLOCK REPORT MKCALENDAR SEARCH',"
	"setvar:'tx.gatehouse_dav=1'\"\n"
	"SecRule REQUEST_METHOD \"@streq PROPFIND\" \"id:90064,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule TX:gatehouse_dav \"@eq 1\" \"chain\"\n"
	"SecRule &REQUEST_HEADERS:Depth \"@eq 1\" \"chain\"\n"
	"SecRule REQUEST_HEADERS:Depth \"@rx ^[ \\t]*[01][ \\t]*$\" \"t:none,ctl:ruleRemoveById=911100\"\n"
	/* D47. WebDAV's lock headers, which 920450 restricts: UNLOCK must
	 * name the lock in Lock-Token (RFC 4918 10.5), and a write to a
	 * locked resource submits the token in If (10.4).  Lifted for one
	 * header whose value has the RFC's shape in printable ASCII: a
	 * Coded-URL "<urn:uuid:...>" for Lock-Token on UNLOCK; tagged or
	 * untagged lists of "(Not <token> [etag])" for If on a write or
	 * WebDAV method.  IIS 6's If overflow (CVE-2017-7269: non-ASCII in
	 * the URL), a quote, a space inside a URL, a second header, another
	 * method are refused as before. */
#define DAV_URL "<[a-z0-9._~:/?#\\[\\]@!$&()*+,;=%-]{1,512}>"
	"SecRule REQUEST_METHOD \"@streq UNLOCK\" \"id:90065,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule &REQUEST_HEADERS:Lock-Token \"@eq 1\" \"chain\"\n"
	"SecRule REQUEST_HEADERS:Lock-Token \"@rx ^[ \\t]*" DAV_URL "[ \\t]*$\" "
	"\"t:none,t:lowercase,ctl:ruleRemoveTargetById=920450;REQUEST_HEADERS_NAMES:Lock-Token\"\n"
	"SecRule REQUEST_METHOD \"@rx ^(?:PUT|POST|PATCH|DELETE|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|"
	"LOCK|UNLOCK|REPORT|MKCALENDAR|SEARCH)$\" \"id:90066,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule &REQUEST_HEADERS:If \"@eq 1\" \"chain\"\n"
	"SecRule REQUEST_HEADERS:If \"@rx ^[ \\t]*(?:(?:" DAV_URL "[ \\t]*)?\\((?:[ \\t]*(?:not[ \\t]+)?"
	"(?:" DAV_URL "|\\[(?:w/)?\\\"[a-z0-9._~:/+=-]{0,128}\\\"\\]))+[ \\t]*\\)[ \\t]*){1,16}$\" "
	"\"t:none,t:lowercase,ctl:ruleRemoveTargetById=920450;REQUEST_HEADERS_NAMES:If\"\n"
#undef DAV_URL
	/* D2. Body types browsers and common clients send (920420): CSP
	 * reports, octet-stream chunk uploads, NDJSON, CSV.  text/plain is not
	 * here: see D5. */
	"SecRule &TX:allowed_request_content_type \"@eq 0\" \"id:90021,phase:1,pass,nolog,t:none,"
	"setvar:'tx.allowed_request_content_type=|application/x-www-form-urlencoded| "
	"|multipart/form-data| |multipart/related| |text/xml| |application/xml| "
	"|application/soap+xml| |application/json| |application/cloudevents+json| "
	"|application/cloudevents-batch+json| |application/csp-report| "
	"|application/octet-stream| |application/x-ndjson| |text/csv| "
	/* D26. tus resumable uploads (tus.io: Uppy, Vimeo, Cloudflare
	 * Stream, Supabase) PATCH each chunk as application/offset+octet-stream:
	 * bytes at an offset, application/octet-stream's kind, which is
	 * allowed; no body parser for either. */
	"|application/offset+octet-stream| "
	/* D42. iCalendar (RFC 5545, text/calendar) and vCard (RFC 6350,
	 * text/vcard; vCard 3's text/x-vcard): what CalDAV and CardDAV
	 * clients PUT, and what calendar and contact imports POST.  Read
	 * whole as one string (90054, waf.c), as a CSV body is. */
	"|text/calendar| |text/vcard| |text/x-vcard|',setvar:'tx.gatehouse_types=1'\"\n"
	/* D48 ...but a serialized Java object is a deserialization attack
	 * (JMX invokers, RMI over HTTP): its type keeps 920420 (90080), and a
	 * body of another unlisted type that opens with the stream magic
	 * (0xACED0005) is refused (90081). */
	"SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/x-java-(?:serialized-)?object\" "
	"\"id:90080,phase:1,pass,nolog,t:none,t:lowercase,ctl:ruleRemoveById=90067\"\n"
	/* D48. Any other syntactically valid media type (RFC 6838's names,
	 * type "/" subtype, one Content-Type header; 920470 still reads its
	 * parameters) when D2 filled the list (tx.gatehouse_types): 920420
	 * refused such a body while application/octet-stream (D2) lets any
	 * bytes through.  waf.c reads the body of such a type whole, as one
	 * string (the JSON parser, as a CSV body, 90003 in the prologue), when
	 * it is text (UTF-8, no control byte but tab, CR, LF, FF) or the type
	 * is text/...; a binary one is read as an octet-stream body is.  A
	 * malformed type ("application/", a space, two slashes) is refused by
	 * 920420 as before. */
	"SecRule &REQUEST_HEADERS:Content-Type \"@eq 1\" \"id:90067,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule REQUEST_HEADERS:Content-Type \"@rx ^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/"
	"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}[ \\t]*(?:;|$)\" \"t:none,t:lowercase,chain\"\n"
	"SecRule TX:gatehouse_types \"@eq 1\" \"t:none,ctl:ruleRemoveById=920420\"\n"
	"SecRule REQUEST_BODY \"@rx ^\\xac\\xed\\x00\\x05\" "
	"\"id:90081,phase:2,block,t:none,"
	"msg:'Java serialized object in the request body',logdata:'%{MATCHED_VAR_NAME}',"
	"tag:'attack-rce',tag:'paranoia-level/1',severity:'CRITICAL',"
	"setvar:'tx.rce_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	/* D48. Prometheus remote write (1.0): a snappy-compressed protobuf,
	 * both mandatory.  920450 restricts Content-Encoding because a coded
	 * body reaches the rules unread; this one is binary and unread
	 * whatever its coding (as octet-stream).  On POST, one header of each,
	 * exactly these values: 920450 no longer reads Content-Encoding. */
	"SecRule REQUEST_METHOD \"@streq POST\" \"id:90082,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule &REQUEST_HEADERS:Content-Encoding \"@eq 1\" \"chain\"\n"
	"SecRule REQUEST_HEADERS:Content-Encoding \"@rx ^[ \\t]*snappy[ \\t]*$\" \"t:none,t:lowercase,chain\"\n"
	"SecRule &REQUEST_HEADERS:Content-Type \"@eq 1\" \"chain\"\n"
	"SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/x-protobuf[ \\t]*(?:;|$)\" "
	"\"t:none,t:lowercase,ctl:ruleRemoveTargetById=920450;REQUEST_HEADERS_NAMES:Content-Encoding\"\n"
	/* D3. GraphQL documents look like shell brace groups to 932100: only
	 * the `query` argument of a path ending in /graphql, only that rule;
	 * the variables stay inspected.
	 * D15. ...and their fields take arguments like SQL functions: 942190
	 * reads "user(login: $x)", "createUser(input: ...)", "updateUser(" as
	 * MySQL's user() ("database(" and "schema(" too, but 942140 refuses
	 * those on its own and keeps doing so).  942190 no longer reads
	 * the document; 90037 reads it instead: 942190 without the function
	 * calls (union ... select, a quote then select/union/having,
	 * information_schema, xp_cmdshell, exec master., into outfile).  The
	 * variables, and every other SQL rule, still read as before. */
#define GQL_DOC(rule) "ctl:ruleRemoveTargetById=" rule ";ARGS:query," \
	"ctl:ruleRemoveTargetById=" rule ";ARGS:json.query," \
	"ctl:ruleRemoveTargetById=" rule ";ARGS:json.array_0.query," \
	"ctl:ruleRemoveTargetById=" rule ";ARGS:json.array_1.query," \
	"ctl:ruleRemoveTargetById=" rule ";ARGS:json.array_2.query," \
	"ctl:ruleRemoveTargetById=" rule ";ARGS:json.array_3.query"
	/* D53. ...and 932110 (Windows command injection) reads "{" as a
	 * command separator (PowerShell's script blocks) and "label" as
	 * label.exe: every document selecting a field named label, "items {
	 * label href }", is refused.  The document no longer goes to 932110
	 * either, as it does not to 932100; the variables do, and 932105,
	 * 932115, 932120 read the document as before. */
	"SecRule REQUEST_FILENAME \"@rx /graphql$\" \"id:90022,phase:1,pass,nolog,t:none,"
	GQL_DOC("932100") "," GQL_DOC("942190") "," GQL_DOC("90045") "," GQL_DOC("932110") "\"\n"
#undef GQL_DOC
	"SecRule REQUEST_FILENAME \"@rx /graphql$\" \"id:90037,phase:2,block,t:none,chain,"
	"msg:'SQL injection in a GraphQL document (gatehouse default: 942190 without function calls)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-sqli',tag:'paranoia-level/1',severity:'CRITICAL'\"\n"
	"SecRule ARGS:query|ARGS:json.query|ARGS:json.array_0.query|ARGS:json.array_1.query|"
	"ARGS:json.array_2.query|ARGS:json.array_3.query "
	"\"@rx (?i)[\\\"'`]\\s*;?\\s*(?:having|select|union)\\b\\s*\\S|[\\\"'`]\\s*!\\s*[\\\"'`\\w]|"
	"union[\\w(\\s]*select|union select @|into[\\s+]+(?:dump|out)file\\s*[\\\"'`]|"
	"exec(?:ute)?\\b.*\\Wxp_cmdshell|from\\W+information_schema\\W|exec(?:ute)?\\s+master\\.|\\wiif\\s*\\(\" "
	"\"t:none,t:urlDecodeUni,"
	"setvar:'tx.sql_injection_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	/* D4. Search boxes: 932150 (a Unix command word opening a value) fires
	 * on "python list comprehension"; only the usual search parameter names,
	 * only that rule (the other RCE rules still see them). */
	"SecAction \"id:90023,phase:1,pass,nolog,t:none,"
	"ctl:ruleRemoveTargetById=932150;ARGS:q,"
	"ctl:ruleRemoveTargetById=932150;ARGS:query,"
	"ctl:ruleRemoveTargetById=932150;ARGS:search,"
	"ctl:ruleRemoveTargetById=932150;ARGS:keywords,"
	"ctl:ruleRemoveTargetById=932150;ARGS:field-keywords,"
	/* D11. ...and 930120 (OS file names, "/etc/hosts file windows"):
	 * a search box is matched against an index, not opened; the path
	 * traversal rules (930100, 930110) still read it. */
	"ctl:ruleRemoveTargetById=930120;ARGS:q,"
	"ctl:ruleRemoveTargetById=930120;ARGS:query,"
	"ctl:ruleRemoveTargetById=930120;ARGS:search,"
	"ctl:ruleRemoveTargetById=930120;ARGS:keywords,"
	"ctl:ruleRemoveTargetById=930120;ARGS:field-keywords\"\n"
	/* D5. text/plain bodies (AWS SNS, sendBeacon) are allowed only parsed,
	 * as JSON: an attack inside is still seen.  One that parses fails the
	 * body parser (200002), as it failed 920420, when it opens with { or
	 * [; D33: any other text/plain body (log lines, plain text) is handed
	 * to ModSecurity by waf.c as one JSON string, so every ARGS rule reads
	 * the text whole (ARGS:json); D39: one whose first line is a whole JSON
	 * value and which has more lines (several documents a line, NDJSON
	 * sent as text/plain: Sentry envelopes, log beacons) is handed to it
	 * as one array of its lines, as D35 does for NDJSON.  The
	 * policy rule is lifted for these requests alone rather than the
	 * policy list extended at run time: a list that depends on the request
	 * would make the pre-filter send every request with a body type to
	 * ModSecurity. */
	"SecRule REQUEST_HEADERS:Content-Type \"@rx ^text/plain(?:\\s*;|$)\" "
	"\"id:90024,phase:1,pass,nolog,t:none,t:lowercase,ctl:requestBodyProcessor=JSON,"
	"ctl:ruleRemoveById=920420\"\n"
	/* D35. NDJSON and CSV bodies, allowed by D2, had no body parser: only
	 * the few rules that read REQUEST_BODY saw them, and an injection in
	 * a row or a line passed.  Both go to the JSON parser, rewritten by
	 * waf.c: an NDJSON body as one array of its lines (a line that is not
	 * JSON fails 200002), a CSV body as one string (ARGS:json, the text
	 * whole), so every ARGS rule reads them. */
	"SecRule REQUEST_HEADERS:Content-Type \"@rx ^(?:application/x-ndjson|text/csv|text/calendar|"
	"text/(?:x-)?vcard)(?:\\s*;|$)\" "
	"\"id:90054,phase:1,pass,nolog,t:none,t:lowercase,ctl:requestBodyProcessor=JSON\"\n"	/* D42. An iCalendar body is lines of "NAME:value", and one of its
	 * properties is LOCATION: "\r\nLOCATION:Room 3.14" is 921120's
	 * response-splitting header.  For iCalendar and vCard bodies 921120
	 * no longer reads ARGS:json; 90063 does, without "location" (the
	 * header names a response is split with: Content-Type,
	 * Content-Length, Set-Cookie). */
#define CAL_CTYPE "^(?:text/calendar|text/(?:x-)?vcard)(?:\\s*;|$)"
	"SecRule REQUEST_HEADERS:Content-Type \"@rx " CAL_CTYPE "\" "
	"\"id:90062,phase:1,pass,nolog,t:none,t:lowercase,ctl:ruleRemoveTargetById=921120;ARGS:json\"\n"
	"SecRule REQUEST_HEADERS:Content-Type \"@rx " CAL_CTYPE "\" "
	"\"id:90063,phase:2,block,t:none,t:lowercase,chain,"
	"msg:'HTTP Response Splitting Attack (gatehouse default: 921120 in an iCalendar or vCard body)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-protocol',tag:'paranoia-level/1',severity:'CRITICAL'\"\n"
	"SecRule ARGS:json \"@rx [\\r\\n]\\W*?(?:content-(?:type|length)|set-cookie):\\s*\\w\" "
	"\"t:none,t:urlDecodeUni,t:lowercase,"
	"setvar:'tx.http_violation_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
#undef CAL_CTYPE

	/* D38. YAML bodies (application/yaml, RFC 9512; the older
	 * application/x-yaml, text/yaml, text/x-yaml; and any +yaml type):
	 * OpenAPI and AsyncAPI documents, CI and deployment configs posted to
	 * an API.  The policy list refuses them (920420) and ModSecurity has no
	 * YAML parser.  Like a CSV body (D35), a YAML body goes to the JSON
	 * parser as one string, rewritten by waf.c: every ARGS rule reads the
	 * text whole (ARGS:json), and 920420 is lifted for it.  90057 adds
	 * what only YAML carries: a tag that makes a YAML loader build an
	 * object of the language (PyYAML "!!python/object/apply:os.system",
	 * SnakeYAML "!!javax.script.ScriptEngineManager", Psych
	 * "!ruby/object:", Symfony "!php/object"): a "!!" tag that is none of
	 * YAML's own types, a "tag:yaml.org,2002:" prefix (a verbatim tag or
	 * a %TAG directive) before anything but them, or a local tag naming
	 * a language; a tag starts a node, so no word character before it
	 * ("Sale!!Now" is text).  Application tags ("!Ref", "!Sub",
	 * "!include") pass. */
#define YAML_CTYPE "^(?:(?:application|text)/(?:x-)?yaml|application/[a-z0-9.!#$&^_-]+\\+yaml)(?:\\s*;|$)"
#define YAML_TYPES "(?:str|int|float|bool|null|map|seq|set|omap|pairs|binary|timestamp|merge|value|yaml)"
	"SecRule REQUEST_HEADERS:Content-Type \"@rx " YAML_CTYPE "\" "
	"\"id:90056,phase:1,pass,nolog,t:none,t:lowercase,ctl:requestBodyProcessor=JSON,"
	"ctl:ruleRemoveById=920420\"\n"
	"SecRule REQUEST_HEADERS:Content-Type \"@rx " YAML_CTYPE "\" "
	"\"id:90057,phase:2,block,t:none,t:lowercase,chain,"
	"msg:'YAML tag naming a language object, deserialization (gatehouse default)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-rce',tag:'paranoia-level/1',severity:'CRITICAL'\"\n"
	"SecRule ARGS:json \"@rx (?<![\\w!])!!(?!" YAML_TYPES "(?![\\w./:-]))[\\w.]|"
	"tag:yaml\\.org,2002:(?!" YAML_TYPES "(?![\\w./:-]))|"
	"(?<![\\w!])!(?:python|ruby|php|perl|java|javax|clojure)[/.:]\" "
	"\"t:none,t:lowercase,"
	"setvar:'tx.rce_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
#undef YAML_TYPES
#undef YAML_CTYPE
	/* D34. The Prometheus text exposition format's media type,
	 * "text/plain; version=0.0.4" (Prometheus, VictoriaMetrics, node
	 * exporters pushing metrics): 920470 admits only the charset, boundary,
	 * type, action and start parameters, so "version" fails it.  When the
	 * request has exactly one Content-Type header and it is text/plain
	 * with a numeric version (and optionally a charset) and nothing else,
	 * 920470 is lifted for that request; any other parameter, any other
	 * character in the value, or a second header is refused as before. */
	"SecRule &REQUEST_HEADERS:Content-Type \"@eq 1\" \"id:90053,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule REQUEST_HEADERS:Content-Type "
	"\"@rx ^text/plain[ \\t]*;[ \\t]*version[ \\t]*=[ \\t]*[0-9]{1,3}(?:\\.[0-9]{1,3}){0,3}"
	"(?:[ \\t]*;[ \\t]*charset[ \\t]*=[ \\t]*[a-z0-9_.-]{1,40})?[ \\t]*$\" "
	"\"t:none,t:lowercase,ctl:ruleRemoveById=920470\"\n"
	/* D32. "Content-Encoding: identity" (920450 restricts the header):
	 * the header is restricted because a coded body (gzip, br, deflate)
	 * would reach the rules still coded, unread.  identity is HTTP's
	 * name for no coding at all (RFC 9110 8.4.1): the body is what the
	 * rules read.  Mobile SDKs and some HTTP libraries send it.  When the
	 * request has exactly one Content-Encoding header and its value is
	 * identity, 920450 no longer reads that header's name; any other
	 * value, a list ("identity, gzip"), a second header, and every other
	 * restricted header (Proxy, Lock-Token, Content-Range, If, ...) are
	 * refused as before. */
	"SecRule &REQUEST_HEADERS:Content-Encoding \"@eq 1\" \"id:90052,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule REQUEST_HEADERS:Content-Encoding \"@rx ^[ \\t]*identity[ \\t]*$\" "
	"\"t:none,t:lowercase,ctl:ruleRemoveTargetById=920450;REQUEST_HEADERS_NAMES:Content-Encoding\"\n"
	/* D6. Whole files PUT with a binary media type: no body parser exists
	 * for them and none is needed; POST keeps the policy. */
	"SecRule REQUEST_METHOD \"@streq PUT\" \"id:90025,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule REQUEST_HEADERS:Content-Type \"@rx ^(?:application/(?:pdf|zip|gzip)|"
	"image/[a-z0-9.+-]+|audio/[a-z0-9.+-]+|video/[a-z0-9.+-]+)\\s*(?:;|$)\" "
	"\"t:none,t:lowercase,ctl:ruleRemoveById=920420\"\n"	/* D43. ...and an image POSTed as the raw body (a document editor's
	 * embed upload, GitHub's release assets, chat and avatar APIs):
	 * image types but SVG, which is markup a browser runs (its event
	 * handlers are no "<script"), POST only.  90076 reads what D6 and
	 * D43 admit as 90074 reads a multipart image part. */
	"SecRule REQUEST_METHOD \"@streq POST\" \"id:90061,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule REQUEST_HEADERS:Content-Type \"@rx ^image/(?!svg)[a-z0-9.+-]+\\s*(?:;|$)\" "
	"\"t:none,t:lowercase,ctl:ruleRemoveById=920420\"\n"
	/* D41. Content-Range on an upload (920450 restricts the header): the
	 * chunk APIs send it with the bytes a request carries, GitLab's job
	 * log PATCH ("0-611"), Google's, Microsoft Graph's and Dropbox's
	 * resumable uploads ("bytes 0-524287/2000000"; "*" for the range,
	 * then the total, to ask where an upload stands).  The body is a piece of a file, as
	 * a tus chunk (D26) is, and is read as any body of its type.  On
	 * PUT, PATCH or POST, one header, one range of digits: 920450 no
	 * longer reads that header's name.  A list of ranges, any other
	 * character, a second header, another method are refused as before. */
	"SecRule REQUEST_METHOD \"@rx ^(?:PUT|PATCH|POST)$\" \"id:90060,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule &REQUEST_HEADERS:Content-Range \"@eq 1\" \"chain\"\n"
	"SecRule REQUEST_HEADERS:Content-Range \"@rx ^[ \\t]*(?:bytes[ \\t]+)?(?:[0-9]{1,19}-[0-9]{1,19}"
	"(?:/(?:[0-9]{1,19}|\\*))?|\\*/[0-9]{1,19})[ \\t]*$\" "
	"\"t:none,t:lowercase,ctl:ruleRemoveTargetById=920450;REQUEST_HEADERS_NAMES:Content-Range\"\n"
	/* D12. JSON under a structured-syntax media type (RFC 6839:
	 * application/vnd.api+json, merge-patch+json, ld+json, problem+json,
	 * vnd.github+json ...): allowed like application/json and parsed as
	 * JSON, so an attack inside is seen as in any JSON body.  920420
	 * refuses them today only because the policy list names exact types. */
	"SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/[a-z0-9.!#$&^_-]+\\+json\\s*(?:;|$)\" "
	"\"id:90028,phase:1,pass,nolog,t:none,t:lowercase,ctl:requestBodyProcessor=JSON,"
	"ctl:ruleRemoveById=920420\"\n"
	/* D7. An apostrophe in an uploaded file's name ("O'Hara - CV.pdf"):
	 * 920120 keeps field names; for file names the same test without the
	 * apostrophe, same score. */
	"SecAction \"id:90026,phase:1,pass,nolog,t:none,ctl:ruleRemoveTargetById=920120;FILES\"\n"
	"SecRule FILES \"@rx (?<!&(?:[aAoOuUyY]uml)|&(?:[aAeEiIoOuU]circ)|&(?:[eEiIoOuUyY]acute)|"
	"&(?:[aAeEiIoOuU]grave)|&(?:[cC]cedil)|&(?:[aAnNoO]tilde)|&(?:amp)|&(?:apos));|[\\\"=]\" "
	"\"id:90027,phase:2,block,t:none,t:urlDecodeUni,"
	"msg:'Attempted multipart/form-data bypass (file name; gatehouse default 920120 "
	"without the apostrophe)',logdata:'%{MATCHED_VAR}',tag:'attack-protocol',"
	"tag:'paranoia-level/1',severity:'CRITICAL',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	/* D8-D10. Free-text fields: arguments named like prose (message,
	 * comment, body, description, content, text, note(s), review,
	 * feedback, reason, bio, about, summary, details, remarks, reply,
	 * answer, question, title, subject; also as the last part of a JSON
	 * name, json.head_commit.message, or after a prefix, review_text,
	 * comment[body]).  People write about SQL, shells and HTML there, and
	 * the CRS rules that test for keywords and tags refuse it (942190
	 * "select ... from", 930120 "/etc/hosts", 941160 "<img src=").  Those
	 * rules no longer read these fields; narrower rules (90032-90034)
	 * read them instead and ask for what an injection through a text field
	 * needs: text lands in a quoted SQL string or shell word, so an
	 * injection has to close the quote; HTML is refused when it is active
	 * (script, handlers, javascript: URLs), not for being HTML.  The other
	 * CRS rules still read these fields, and every rule still reads every
	 * other field. */
	/* D37: a camelCase prefix counts like a snake_case one (commitMessage,
	 * emailSubject, MediaWiki's wpSummary, as commit_message and
	 * email_subject do): the name is matched caseless (libmodsecurity
	 * compiles a name regex so), the capital that starts the family word
	 * case-sensitively (written (?![^A-Z]): ModSecurity's lexer takes an
	 * "=" in a quoted name regex that has a "|" for a new token). */
#define FREE_TEXT "ARGS:'/(?i)(?:^|[.\\[])(?:[a-z0-9]+[_-]|(?-i:[a-z][a-z0-9]*(?![^A-Z])))?" \
	"(?:message|comment|body|description|" \
	"content|text|notes?|review|feedback|reason|bio|about|summary|details|remarks|reply|answer|" \
	"question|title|subject|" \
	/* D14: the same family, wider: short forms, headings and captions, \
	 * rich text by its format (the HTML or markdown of a post: 90033 \
	 * still refuses active content in it) */ \
	"msg|desc|headline|caption|excerpt|html|markdown|" \
	/* D18: a page builder's embed code (a video or map iframe) is HTML \
	 * by purpose, like html */ \
	"embed|" \
	/* D37: a wiki's page source is rich text by its format too: DokuWiki's \
	 * wikitext, MediaWiki's edit box wpTextbox1 (wp + textbox1), and the \
	 * widget names form builders give a text box or area (textarea2) */ \
	"wikitext|textbox[0-9]?[0-9]?|textarea[0-9]?[0-9]?|" \
	/* D46: a package's or repository's README, markdown by its format \
	 * (npm's package document, registry and forge APIs) */ \
	"readme|" \
	/* ...and the family's words in French, Spanish, Portuguese, Italian, \
	 * German and Dutch (message, comment, description, text, note, \
	 * review, question, answer, subject, title, body, reason) */ \
	"mensaje|mensagem|messaggio|nachricht|bericht|commentaire|comentario|commento|kommentar|" \
	"opmerking|descripcion|descricao|descrizione|beschreibung|beschrijving|texte|texto|testo|" \
	"nota|notiz|avis|bewertung|resena|recensione|pregunta|pergunta|domanda|frage|reponse|" \
	"respuesta|resposta|risposta|antwort|sujet|asunto|assunto|oggetto|betreff|titre|titulo|" \
	"titolo|titel|corps|cuerpo|corpo|motivo|raison|grund)s?\\]?$/'"
	/* D8. SQL keywords in prose (942100 libinjection, 942140 database
	 * names, 942190, 942350, 942360): 90032 keeps libinjection, when the
	 * value also closes a quote before SQL syntax or stacks a statement.
	 * (D29 also: the chain reads MATCHED_VARS, every value the first link
	 * took, not one of them: a harmless quote in a title must not keep
	 * libinjection from the message next to it.) */
	"SecRuleUpdateTargetById 942100 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 942140 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 942190 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 942350 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 942360 \"!" FREE_TEXT "\"\n"
	/* D25. A quoted word in prose ("contains 'and'", "the 'select'
	 * rooms", "Runner 'Select' Edition", q="select all"): the quote opens a
	 * quoted word, it does not close a string.  A break-out's quote closes
	 * the value the application quoted; what the attacker writes after it
	 * is SQL up to a comment, or up to a quote that the application's own
	 * closing quote balances.  A quote opens a quoted word (and the
	 * keyword branch of 90032/90038 and 90045 skips it) only when all of
	 * these hold: no word character right before it; right after it the
	 * keyword, at most 30 more letters, digits, spaces or hyphens, and a
	 * quote; after that quote no word character, then prose: spaces and a
	 * letter, punctuation then a space or the end, or the end.  Not a
	 * digit, an operator, a quote, or a word SQL reads as true (t, true,
	 * y, yes, on): "x' or ' 1=1" and "x' having ' yes" compare a truthy
	 * string, prose does not.  Operators right after a quote (`'=`, `';`,
	 * `'--`) count as before. */
#define QUOTED_WORD(kw) "(?<!\\w.)(?:" kw ")\\b[\\w \\-]{0,30}[\\\"'`](?!\\w)" \
	"(?=\\s*(?:(?!(?:t|true|y|yes|on)\\b)[a-zA-Z]|[.,!?:)]+(?:\\s|(?![\\s\\S]))|(?![\\s\\S])))"
#define FT_SQLI_RX "['\\\"`](?!" QUOTED_WORD("or|and|xor|union|having") ")\\s*\\)*\\s*(?:;|--|#|/\\*|\\|\\||&&|[=<>+*%^]|" \
	"\\b(?:or|and|xor|union|having|group\\s+by|order\\s+by|limit|procedure|waitfor|rlike|regexp)\\b)|" \
	";\\s*(?:select|drop|insert|update|delete|exec|execute|declare|shutdown|create|alter|truncate|" \
	"waitfor)\\b"
#define FT_SQLI_T "t:none,t:urlDecodeUni,t:removeNulls,t:lowercase"
#define FT_SQLI_SCORE "setvar:'tx.sql_injection_score=+%{tx.critical_anomaly_score}'," \
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'"
	"SecRule " FREE_TEXT " \"@rx " FT_SQLI_RX "\" "
	"\"id:90032,phase:2,block," FT_SQLI_T ",chain,"
	"msg:'SQL injection in a free-text field (gatehouse default: libinjection after a quote break-out)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-sqli',tag:'paranoia-level/1',severity:'CRITICAL'\"\n"
	"SecRule MATCHED_VARS \"@detectSQLi\" \"t:none," FT_SQLI_SCORE "\"\n"
	/* D19. Exact-phrase searches: a search box's quote opens a phrase,
	 * q="select comfort" mattress, "union square", "having fun", and
	 * 942190 reads a quote before select/union/having as a break-out,
	 * 942360 a value opening with `"select` as a statement.  Search
	 * parameters (D4's names but `query`, GraphQL's document) are no
	 * longer read by those two; 90042 reads them for the rest of 942190
	 * (union ... select, information_schema, xp_cmdshell, exec master.,
	 * into outfile); libinjection (942100) and every other SQL rule still
	 * read them, so a quote break-out is still refused. */
#define SEARCH "ARGS:q|ARGS:search|ARGS:keywords|ARGS:field-keywords|ARGS:json.q|ARGS:json.search"
	"SecRuleUpdateTargetById 942190 \"!ARGS:q|!ARGS:search|!ARGS:keywords|!ARGS:field-keywords|"
	"!ARGS:json.q|!ARGS:json.search\"\n"
	"SecRuleUpdateTargetById 942360 \"!ARGS:q|!ARGS:search|!ARGS:keywords|!ARGS:field-keywords|"
	"!ARGS:json.q|!ARGS:json.search\"\n"
	"SecRule " SEARCH " \"@rx (?i)union[\\w(\\s]*select|union select @|into[\\s+]+(?:dump|out)file\\s*[\\\"'`]|"
	"exec(?:ute)?\\b.*\\Wxp_cmdshell|from\\W+information_schema\\W|exec(?:ute)?\\s+master\\.\" "
	"\"id:90042,phase:2,block,t:none,t:urlDecodeUni,"
	"msg:'SQL injection in a search parameter (gatehouse default: 942190 without quoted phrases)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-sqli',tag:'paranoia-level/1',severity:'CRITICAL',"
	FT_SQLI_SCORE "\"\n"
	/* D29. Search syntax: search boxes take boolean operators and groups,
	 * "(python OR golang) AND remote NOT senior", "title:x AND author:y",
	 * and libinjection (942100) reads a parenthesised group joined by
	 * OR/AND as SQL.  Search syntax is words, quoted phrases, field
	 * prefixes (title:), +/- prefixes, boolean words and parentheses; on
	 * these parameters 90048 keeps libinjection for every value that has
	 * anything more: a quote, ";", a comparison (= < >), a comment (--,
	 * #, slash-star) or a function call (a word right before "(").  What
	 * it gives up is SQL made only of search syntax, "1) or (2" - no
	 * comparison, no call, no comment.  90042 (union select,
	 * information_schema ...) and every other SQL rule still read them.
	 * The chain reads MATCHED_VARS, every search value the first link
	 * took: a repeated q=1' union&q=select ... has its SQL in the second. */
	"SecRuleUpdateTargetById 942100 \"!ARGS:q|!ARGS:search|!ARGS:keywords|!ARGS:field-keywords|"
	"!ARGS:json.q|!ARGS:json.search\"\n"
	/* D58 (thirteenth round): a double quote counts as search syntax
	 * when every one in the value opens or closes a quoted phrase:
	 * opening the value or after a space, "(", ":", "+" or "-" (a
	 * negated phrase), closing before a space, ")" or the end, and
	 * holding words of letters and digits (".,/&+-" inside a word)
	 * separated by spaces, neither the first nor the last word a SQL
	 * operator (or, and, not, like, is, in ...): barista OR "coffee
	 * shop" -manager.  An injection into a double-quoted SQL string
	 * needs a quote glued to text (x" or 1 or "), a phrase opening or
	 * closing on a space or an operator (x "or 1 or"), or any other
	 * character above: libinjection reads those as before. */
#define D58_W "[\\w\\x80-\\xff](?:[\\w\\x80-\\xff.,/&+\\-]*[\\w\\x80-\\xff])?"
#define D58_OP "(?:or|and|not|xor|like|rlike|regexp|union|select|is|div|mod|sounds|between|in)\\b"
#define D58_PH "(?<![^\\s(:+\\-])\\\"(?!" D58_OP ")" D58_W "(?: +" D58_W ")*" \
	"(?<!\\bor|\\band|\\bnot|\\bxor|\\blike|\\brlike|\\bregexp|\\bunion|\\bselect|\\bis|\\bdiv|" \
	"\\bmod|\\bsounds|\\bbetween|\\bin)\\\"(?=[\\s)]|$)"
	"SecRule " SEARCH " \"@rx ['`;=<>#]|--|/\\*|\\w\\(|^(?![^\\\"]*(?:" D58_PH "[^\\\"]*)*$)\" "
	"\"id:90048,phase:2,block," FT_SQLI_T ",chain,"
	"msg:'SQL injection in a search parameter (gatehouse default: libinjection beyond search syntax)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-sqli',tag:'paranoia-level/1',severity:'CRITICAL'\"\n"
	"SecRule MATCHED_VARS \"@detectSQLi\" \"t:none," FT_SQLI_SCORE "\"\n"
#undef D58_PH
#undef D58_OP
#undef D58_W
#undef SEARCH
	/* D17. OData's system query options ($select, $filter, $orderby,
	 * $top ...: Microsoft Graph, SharePoint, Dynamics, SAP): 942360 reads
	 * the argument name "$select" as a value opening with select.  Only
	 * that exact name, only that rule: every rule reads its value. */
	"SecRuleUpdateTargetById 942360 \"!ARGS_NAMES:$select\"\n"
	/* D9. HTML from rich-text editors (941100 libinjection, 941160
	 * NoScript tags and attributes, 941180 keyword list with "<!--"):
	 * 90033 refuses active content only.  941110-941150 and the others
	 * (script tags, event handlers, javascript: URIs) still read these
	 * fields. */
	"SecRuleUpdateTargetById 941100 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 941160 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 941180 \"!" FREE_TEXT "\"\n"
#define FT_XSS_RX "<\\s*/?\\s*(?:script|object|embed|applet|base|meta|frameset|frame|" \
	"svg|math|form|link)\\b|<[^>]*\\bsrcdoc\\s*=|\\b(?:java|vb|live)script\\s*:|" \
	"data\\s*:\\s*text/html|expression\\s*\\(|-moz-binding|" \
	"document\\s*\\.\\s*(?:cookie|domain|write)|window\\s*\\.\\s*location|\\.innerhtml\\b"
#define FT_XSS_T "t:none,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:removeNulls,t:lowercase"
#define FT_XSS_SCORE "setvar:'tx.xss_score=+%{tx.critical_anomaly_score}'," \
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'"
	"SecRule " FREE_TEXT " \"@rx " FT_XSS_RX "\" "
	"\"id:90033,phase:2,block," FT_XSS_T ","
	"msg:'XSS: active content in a free-text field (gatehouse default)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-xss',tag:'paranoia-level/1',severity:'CRITICAL',"
	FT_XSS_SCORE "\"\n"
	/* D10. Commands and file names in prose (932100, 932105, 932110,
	 * 932115, 932150, 932160 command words; 930120 /etc/... names):
	 * 90034 asks for a break-out instead: a separator or a substitution
	 * at the start of the value or right after a quote, "$(", a pipe into
	 * a shell, /dev/tcp. */
	"SecRuleUpdateTargetById 932100 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 932105 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 932110 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 932115 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 932150 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 932160 \"!" FREE_TEXT "\"\n"
	"SecRuleUpdateTargetById 930120 \"!" FREE_TEXT "\"\n"
	/* D31. Java class names in prose (944130): a support ticket or a crash
	 * report pastes a stack trace, "NullPointerException: Attempt to
	 * invoke virtual method 'java.lang.String ...'", "at
	 * java.lang.reflect.Method.invoke(Method.java:498)".  A class name
	 * does harm only where something resolves it: an expression language
	 * (OGNL "@java.lang.Runtime@getRuntime()", SpEL "T(java.lang.Runtime)",
	 * "new java.lang.ProcessBuilder(", EL "forName('java.lang.Runtime')"), a
	 * deserializer (an XML element or class="..." attribute, a JSON type
	 * key "@type"/"@class", a typed array ["java.io.File", ...], the
	 * binary stream's length bytes before the name), or a script calling a
	 * method of it ("java.lang.Runtime.getRuntime()").  944130 no longer
	 * reads free-text fields; 90051 reads them for its class list (CRS
	 * 3.3.4's java-classes.data) in those shapes only.  A method call
	 * whose parentheses hold a stack frame's location ("(File.java:12)",
	 * "(Native Method)", "(Unknown Source)", "(SourceFile:3)") is a frame,
	 * not a call.  944100-944120 (java.lang.Runtime, ProcessBuilder,
	 * gadget-chain names) still read these fields as before. */
#define JAVA_CLASS "(?:com\\.opensymphony\\.xwork2|com\\.sun\\.org\\.apache|java\\.io\\.(?:buffered" \
	"(?:inputstream|reader)|bytearray(?:input|output)stream|chararrayreader|datainputstream|file" \
	"(?:outputstream|permission|writer)?|filter(?:inputstream|outputstream|reader)|inputstream" \
	"(?:reader)?|linenumberreader|objectoutputstream|outputstream|piped(?:outputstream|reader)|" \
	"printstream|pushbackinputstream|reader|stringreader)|java\\.lang\\.(?:class|integer|number|" \
	"object|process(?:builder)?|reflect|runtime|string(?:builder)?|system)|javax\\.script\\." \
	"scriptenginemanager|org\\.apache\\.(?:commons|struts2?)|org\\.omg\\.corba|java\\.beans\\.xmldecode)"
#define FT_JAVA_RX "(?:@|\\bt\\s*\\(\\s*|\\bnew\\s+|(?<![\\w$])<\\s*/?\\s*|\\bclass\\s*=\\s*[\\\"']|" \
	"forname\\s*\\(\\s*[\\\"']|[\\\"']@(?:type|class)[\\\"']\\s*:\\s*[\\\"']|\\[\\s*[\\\"']|" \
	"[\\x00-\\x08\\x0e-\\x1f][\\s\\S]?)" JAVA_CLASS "|" JAVA_CLASS "[\\w$]*\\s*@|" \
	JAVA_CLASS "[\\w$.]*\\.[\\w$]+\\s*\\((?!\\s*(?:[\\w$-]+\\.(?:java|kt|scala|groovy|clj)" \
	"(?::\\d+)?|native method|unknown source(?::\\d+)?|sourcefile(?::\\d+)?)\\s*\\))"
	"SecRuleUpdateTargetById 944130 \"!" FREE_TEXT "\"\n"
	"SecRule " FREE_TEXT " \"@rx " FT_JAVA_RX "\" "
	"\"id:90051,phase:2,block,t:none,t:lowercase,"
	"msg:'Suspicious Java class detected (gatehouse default: 944130 where a class name is "
	"resolved, free-text fields)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-rce',tag:'paranoia-level/1',severity:'CRITICAL',"
	"setvar:'tx.rce_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
#undef FT_JAVA_RX
#undef JAVA_CLASS
	/* D23 also: a separator opens the value (\A), not any line of it:
	 * the rows of a markdown table start with "|".  A backtick still
	 * counts at the start of any line (a substitution anywhere in a
	 * double-quoted shell word runs). */
	/* D27. ...and a markdown table that opens the value: its header row
	 * starts with "|", and a delimiter row ("|---|:--:|") follows it.  In
	 * a shell, a pipe whose line ends in another pipe and whose next line
	 * starts with "|---" is a syntax error: nothing of it runs.  A pipe
	 * opening the value without that delimiter row counts as before. */
#define MD_TABLE "[^\\n]*\\|[ \\t]*\\r?\\n[ \\t]*\\|?[ \\t]*:?-{3,}"
#define FT_CMD_RX "(?:\\A|['\\\"])[ \\t]*(?:[;&]|\\|(?!" MD_TABLE ")|\\$\\()|(?:^|['\\\"])[ \\t]*`(?!``[\\w+.#-]*[ \\t]*$)|" \
	"\\$\\(|" \
	"\\|\\s*(?:(?:ba|z|da|k|c|tc)?sh|nc|ncat|netcat|socat|telnet)\\b|/dev/(?:tcp|udp)/"
#define FT_CMD_T "t:none,t:urlDecodeUni,t:removeNulls"
#define FT_RCE_SCORE "setvar:'tx.rce_score=+%{tx.critical_anomaly_score}'," \
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'"
	"SecRule " FREE_TEXT " \"@rx " FT_CMD_RX "\" "
	"\"id:90034,phase:2,block," FT_CMD_T ","
	"msg:'Command injection in a free-text field (gatehouse default: a quote break-out or substitution)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-rce',tag:'paranoia-level/1',severity:'CRITICAL',"
	FT_RCE_SCORE "\"\n"
	/* ...and 90035 keeps the files an exfiltration aims at (930120
	 * without the harmless names, /etc/hosts, /etc/os-release). */
#define FT_FILE_RX "/etc/(?:passwd|shadow|group|gshadow|sudoers|master\\.passwd)\\b|" \
	"/proc/self/|/proc/\\d+/(?:environ|cmdline|mem)\\b|[a-z]:/windows/(?:win\\.ini|system32/)"
#define FT_FILE_T "t:none,t:urlDecodeUni,t:normalizePathWin,t:lowercase"
#define FT_LFI_SCORE "setvar:'tx.lfi_score=+%{tx.critical_anomaly_score}'," \
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'"
	"SecRule " FREE_TEXT " \"@rx " FT_FILE_RX "\" "
	"\"id:90035,phase:2,block," FT_FILE_T ","
	"msg:'OS file access in a free-text field (gatehouse default)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-lfi',tag:'paranoia-level/1',severity:'CRITICAL',"
	FT_LFI_SCORE "\"\n"
	/* D20-D22.  Three CRS 3.3.4 PL1 rules as the CRS itself later fixed
	 * them, for request arguments: the 3.3.4 rule no longer reads ARGS,
	 * the corrected one (90043-90045) does; cookies, names, headers and
	 * XML keep the 3.3.4 rule.  Each correction is upstream's, made for
	 * false positives on ordinary text, not gatehouse's guess:
	 * D20 (941120, event handlers): "on" and at least three letters, and
	 * "=" not followed by "=" (coreruleset 2020 and 2021, "Eliminate FPs
	 * in 941120 by applying character limit", "Fix FP with Google Funding
	 * Choices cookies"; CRS 4 has both): a wiki heading
	 * "== Week one ==" or "score one == two" is no handler; onload= is.
	 * D21 (941180, keyword list): without "-->" (coreruleset 2021 moved
	 * it to the PL2 sibling 941181): every WebVTT/SRT cue timing has
	 * one.  "<!--" stays.  Not on free-text fields, where 90033 reads.
	 * D22 (942190): after a quote, "union" counts only before all,
	 * distinct or select (the rule's own source data says so; CRS 4
	 * ships it), and "!" only before a comparison or a quote (coreruleset
	 * 2026, "require operator or quote after '!'"): a page title with
	 * "union jack", a quote ending in "!" before a capital.  Not on
	 * free-text fields, search parameters or GraphQL documents, where D8,
	 * D19 and D15 have their own. */
	"SecRuleUpdateTargetById 941120 \"!ARGS\"\n"
	"SecRuleUpdateTargetById 941180 \"!ARGS\"\n"
	"SecRuleUpdateTargetById 942190 \"!ARGS\"\n"
	"SecRule ARGS \"@rx (?i)[\\s\\\"'`;\\/0-9=\\x0B\\x09\\x0C\\x3B\\x2C\\x28\\x3B]on[a-zA-Z]{3,50}"
	"[\\s\\x0B\\x09\\x0C\\x3B\\x2C\\x28\\x3B]*?=[^=]\" "
	"\"id:90043,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,"
	"t:jsDecode,t:cssDecode,t:removeNulls,"
	"msg:'XSS Filter - Category 2: Event Handler Vector (gatehouse default: 941120 as the CRS fixed it)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-xss',tag:'paranoia-level/1',severity:'CRITICAL',"
	FT_XSS_SCORE "\"\n"
	"SecRule ARGS|!" FREE_TEXT " \"@pm document.cookie document.write .parentnode .innerhtml "
	"window.location -moz-binding <!-- <![cdata[\" "
	"\"id:90044,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,"
	"t:jsDecode,t:cssDecode,t:lowercase,t:removeNulls,"
	"msg:'Node-Validator Blacklist Keywords (gatehouse default: 941180 without -->, as the CRS fixed it)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-xss',tag:'paranoia-level/1',severity:'CRITICAL',"
	FT_XSS_SCORE "\"\n"
	"SecRule ARGS|!" FREE_TEXT "|!ARGS:q|!ARGS:search|!ARGS:keywords|!ARGS:field-keywords|"
	"!ARGS:json.q|!ARGS:json.search "
	"\"@rx (?i:(?:[\\\"'`](?!" QUOTED_WORD("having|select") ")(?:;?\\s*?(?:having|select|union\\b\\s*?(?:all|distinct|select))\\b\\s*?[^\\s]|"
	"\\s*?!\\s*?[\\\"'`<=>])|(?:c(?:onnection_id|urrent_user)|database)\\s*?\\([^\\)]*?|"
	"u(?:nion(?:[\\w(\\s]*?select| select @)|ser\\s*?\\([^\\)]*?)|s(?:chema\\s*?\\([^\\)]*?|"
	"elect.*?\\w?user\\()|into[\\s+]+(?:dump|out)file\\s*?[\\\"'`]|\\s*?exec(?:ute)?.*?\\Wxp_cmdshell|"
	"from\\W+information_schema\\W|exec(?:ute)?\\s+master\\.|\\wiif\\s*?\\())\" "
	"\"id:90045,phase:2,block,capture,t:none,t:urlDecodeUni,"
	"msg:'Detects MSSQL code execution and information gathering attempts (gatehouse default: "
	"942190 as the CRS fixed it)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-sqli',tag:'paranoia-level/1',severity:'CRITICAL',"
	FT_SQLI_SCORE "\"\n"
	/* D23.  libmodsecurity 3 compiles every @rx multi-line (PCRE2_MULTILINE):
	 * "^" matches after every line break of a value, where ModSecurity 2,
	 * the engine the CRS is written and tested for, matches at the start
	 * of the value only (coreruleset issue 3277, ModSecurity issue 3295;
	 * Coraza dropped multi-line for the same reason).  Of the PL1 rules
	 * anchored on "^" in ARGS, 942360 is the one that refuses text: its
	 * "^[\W\d]+ select/delete/alter ..." reads every line of a numbered
	 * list ("1. Open settings\n2. Select 'Notifications'") as a value
	 * opening a statement.  For request arguments, 90046 is 942360 (CRS
	 * 3.3.4's regex, Apache-2.0) with that anchor at the start of the
	 * value (\A), as ModSecurity 2 reads it; cookies, names and XML keep
	 * 942360.  Not on the fields 942360 does not read already (D8, D17,
	 * D19).  The pre-filter evaluates a link with \A per field
	 * (prefilter.c). */
	"SecRuleUpdateTargetById 942360 \"!ARGS\"\n"
	"SecRule ARGS|!" FREE_TEXT "|!ARGS:q|!ARGS:search|!ARGS:keywords|!ARGS:field-keywords|"
	"!ARGS:json.q|!ARGS:json.search \"@rx "
	"(?i:(?:\\A[\\W\\d]+\\s*?(?:(?:alter\\s*(?:a(?:(?:pplication\\s*rol|ggregat)e|s(?:ymmet"
	"ric\\s*ke|sembl)y|u(?:thorization|dit)|vailability\\s*group)|c(?:r(?:yptographic\\s*pr"
	"ovider|edential)|o(?:l(?:latio|um)|nversio)n|ertificate|luster)|s(?:e(?:rv(?:ice|er)|c"
	"urity|quence|ssion|arch)|y(?:mmetric\\s*key|nonym)|togroup|chema)|m(?:a(?:s(?:ter\\s*k"
	"ey|k)|terialized)|e(?:ssage\\s*type|thod)|odule)|l(?:o(?:g(?:file\\s*group|in)|ckdown)"
	"|a(?:ngua|r)ge|ibrary)|t(?:(?:abl(?:espac)?|yp)e|r(?:igger|usted)|hreshold|ext)|p(?:a("
	"?:rtition|ckage)|ro(?:cedur|fil)e|ermission)|d(?:i(?:mension|skgroup)|atabase|efault|o"
	"main)|r(?:o(?:l(?:lback|e)|ute)|e(?:sourc|mot)e)|f(?:u(?:lltext|nction)|lashback|oreig"
	"n)|e(?:xte(?:nsion|rnal)|(?:ndpoi|ve)nt)|in(?:dex(?:type)?|memory|stance)|b(?:roker\\s"
	"*priority|ufferpool)|x(?:ml\\s*schema|srobject)|w(?:ork(?:load)?|rapper)|hi(?:erarchy|"
	"stogram)|o(?:perator|utline)|(?:nicknam|queu)e|us(?:age|er)|group|java|view)|u(?:nion\\s"
	"*(?:(?:distin|sele)ct|all)|pdate)|(?:truncat|renam)e|(?:inser|selec)t|de(?:lete|sc)|lo"
	"ad)\\b|create\\s+\\w+)|(?:(?:(?:trunc|cre|upd)at|renam)e|(?:inser|selec)t|de(?:lete|sc"
	")|alter|load)\\s+(?:group_concat|load_file|char)\\s?\\(?|[\\d\\W]\\s+as\\b\\s*[\\\"'`\\w"
	"]+\\s*\\bfrom|[\\s(]load_file\\s*?\\(|[\\\"'`]\\s+regexp\\W|end\\s*?\\);))"
	"\" \"id:90046,phase:2,block,capture,t:none,t:urlDecodeUni,"
	"msg:'Detects basic SQL authentication bypass attempts 3/3 (gatehouse default: 942360 with "
	"the anchor of ModSecurity 2)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-sqli',tag:'paranoia-level/1',severity:'CRITICAL',"
	FT_SQLI_SCORE "\"\n"
	/* D36.  942140 (common database names) lists "northwind" with the
	 * system databases an injection enumerates (information_schema,
	 * master..sysdatabases, pg_catalog, msdb, tempdb): Northwind is SQL
	 * Server's and Access's sample database, and also a company name
	 * (Microsoft's fictional Northwind Traders of every tutorial, and
	 * real firms): an e-mail address "jsw@northwind.example", a subject
	 * "MSA -- Acme / Northwind".  A sample database is no system table:
	 * an injection names it only to reach its objects, and SQL reaches a
	 * database's objects by a qualified name, "northwind..orders",
	 * "northwind.dbo.orders" (dbo, sys, information_schema), or a
	 * bracketed identifier "[northwind]".  For request arguments 90055 is
	 * 942140 (CRS 3.3.4's regex, Apache-2.0) with northwind counted in
	 * those shapes only; cookies, names and XML keep 942140.  Not on the
	 * free-text fields 942140 does not read already (D8). */
	"SecRuleUpdateTargetById 942140 \"!ARGS\"\n"
	"SecRule ARGS|!" FREE_TEXT " \"@rx (?i:\\b(?:(?:m(?:s(?:ys(?:ac(?:cess(?:objects|storage|xml)|es)|"
	"(?:relationship|object|querie)s|modules2?)|db)|aster\\.\\.sysdatabases|ysql\\.db)|"
	"pg_(?:catalog|toast)|information_schema|tempdb)\\b|s(?:(?:ys(?:\\.database_name|aux)|"
	"qlite(?:_temp)?_master)\\b|chema(?:_name\\b|\\W*\\())|d(?:atabas|b_nam)e\\W*\\()|"
	"\\bnorthwind\\s*\\]?\\s*\\.\\s*(?:\\[?\\s*(?:dbo|sys|information_schema)\\s*\\]?\\s*)?\\.|"
	"\\[\\s*northwind\\s*\\])\" "
	"\"id:90055,phase:2,block,capture,t:none,t:urlDecodeUni,"
	"msg:'SQL Injection Attack: Common DB Names Detected (gatehouse default: 942140 with northwind "
	"as a database reference only)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-sqli',tag:'paranoia-level/1',severity:'CRITICAL',"
	FT_SQLI_SCORE "\"\n"
	/* D40.  921110 (request smuggling) and 921130 (response splitting)
	 * look for a request line ("GET /admin HTTP/1.1", HTTP/0.9's "GET
	 * /admin" and a line break) and a status line ("HTTP/1.1 200") anywhere
	 * in a value; a parser reads either only where it starts a line, so
	 * what an attack injects is a line break then the line, or a value or
	 * body that opens with it.  Unanchored, they read prose and logs: a
	 * line ending "... delete it" or "move on" (a method word, a word and a
	 * line break: 921110), "we moved to HTTP/2" (921130), a log line
	 * quoting "GET /products/x HTTP/1.1".  For request arguments and the
	 * body (921110 reads it too) 90058 and 90059 are the same tests at the
	 * start of a line (libmodsecurity's ^ is multi-line), after any white
	 * space, HTTP/0.9's branch with its one method, GET, and a path; 921130's
	 * "<html" and "<meta" branch is kept whole.  Names, cookies and XML
	 * keep 921110 and 921130 as shipped. */
	"SecRuleUpdateTargetById 921110 \"!ARGS\"\n"
	"SecRuleUpdateTargetById 921110 \"!REQUEST_BODY\"\n"
	"SecRuleUpdateTargetById 921130 \"!ARGS\"\n"
	"SecRule ARGS|REQUEST_BODY \"@rx ^\\s*(?:(?:get|post|head|options|connect|put|delete|trace|track|"
	"patch|propfind|propatch|mkcol|copy|move|lock|unlock)\\s+(?:/|\\w)\\S*\\s+http/\\d|"
	"get\\s+/\\S*[\\r\\n])\" "
	"\"id:90058,phase:2,block,capture,t:none,t:urlDecodeUni,t:htmlEntityDecode,t:lowercase,"
	"msg:'HTTP Request Smuggling Attack (gatehouse default: 921110 at the start of a line)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-protocol',tag:'paranoia-level/1',severity:'CRITICAL',"
	"setvar:'tx.http_violation_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	"SecRule ARGS \"@rx ^\\s*http/\\d|<(?:html|meta)\\b\" "
	"\"id:90059,phase:2,block,capture,t:none,t:urlDecodeUni,t:htmlEntityDecode,t:lowercase,"
	"msg:'HTTP Response Splitting Attack (gatehouse default: 921130, a status line at the start "
	"of a line)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-protocol',tag:'paranoia-level/1',severity:'CRITICAL',"
	"setvar:'tx.http_violation_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	/* D28.  933210 (PHP variable function call) was written for
	 * "(system)('id')", "(sy.(st).em)('id')", "['system'][0]('id')": an
	 * expression in parentheses or brackets that yields a callable, then
	 * an argument list.  Its 3.3.4 pattern takes any bracketed or
	 * parenthesised text before any parenthesised text, so prose and
	 * markdown read as calls: a link "[the docs](https://...)", an image
	 * "![alt](/img/a.png \"title\")", a statute "s. 21(1)(b) says ... (b)
	 * the tenant".  For request arguments 90047 stands in for it, written
	 * from what PHP can call: a parenthesised callee has a name, a
	 * variable or a string in it (not "(1)"); a bracketed callee is an
	 * array callable (a quote or "$" inside: "['system']", "[$o,'m']") or
	 * a numeric index ("[0]"), not link text.  The rest is 3.3.4's: the
	 * argument list, and the other branch, "(string)" before a quote.  (A
	 * call that must end a statement was tried and dropped: PHP runs
	 * "(system)('id') and 1" too.)  The 3.3.4 rule keeps cookies, names,
	 * the file name and XML. */
	/* D45.  ...and PromQL's grouping is "(labels)" before an expression
	 * in parentheses: "sum by (route) (rate(x[5m]))", "topk without (pod)
	 * (3, m)", "a / on (job) group_left (instance) (b)" (Grafana,
	 * Prometheus's /api/v1/query, every PromQL editor).  A parenthesised
	 * callee right after one of PromQL's modifier words, as a word of
	 * its own (not "$by", "->on", "won"), is no call: PHP would read
	 * "by (system)('id')" as a call of a function by().  (One fixed-length
	 * branch a word: PCRE's lookbehind takes no other.)  The other
	 * callees and the bracketed branch are read as before. */
	/* D54.  ...and a statute's or a rule's subsection, "Fed. R. Civ. P.
	 * 34(b)(2)", "42 U.S.C. 1983(a)", "Rule 12(b)(6)": a parenthesised
	 * letter right after a number of one to four digits reads as a
	 * callee "(b)" called with "(2)".  PHP cannot call a number
	 * ("34(b)" does not parse), so a callee glued to a number that is
	 * not the end of a name ("f1(system)", "$a2(x)") is no call; one
	 * after a space, a separator or a name is read as before. */
#define SECNUM "(?<!(?<![\\w$])[0-9])(?<!(?<![\\w$])[0-9]{2})(?<!(?<![\\w$])[0-9]{3})" \
	"(?<!(?<![\\w$])[0-9]{4})"
#define PROMQL_MOD "(?<!(?<![\\w$>])by|(?<![\\w$>])without|(?<![\\w$>])on|(?<![\\w$>])ignoring|(?<![\\w$>])group_left|(?<![\\w$>])group_right)" \
	"(?<!(?<![\\w$>])by\\s|(?<![\\w$>])without\\s|(?<![\\w$>])on\\s|(?<![\\w$>])ignoring\\s|(?<![\\w$>])group_left\\s|(?<![\\w$>])group_right\\s)"
	"SecRuleUpdateTargetById 933210 \"!ARGS\"\n"
	"SecRule ARGS \"@rx (?:(?:" PROMQL_MOD SECNUM "\\((?=[^)]*[a-zA-Z$\\\"'])|\\[(?=[^\\]]*[$\\\"']|\\s*\\d+\\s*\\]))"
	"[a-zA-Z0-9_.$\\\"'\\[\\](){}/*\\s]+[)\\]][0-9_.$\\\"'\\[\\](){}/*\\s]*"
	"\\([a-zA-Z0-9_.$\\\"'\\[\\](){}/*\\s].*\\)|"
	"\\(\\s*string\\s*\\)\\s*[\\\"'])\" "
	"\"id:90047,phase:2,block,capture,t:none,t:urlDecode,t:replaceComments,t:compressWhitespace,"
	"msg:'PHP Injection Attack: Variable Function Call Found (gatehouse default: 933210 for "
	"callable expressions only)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-injection-php',tag:'paranoia-level/1',"
	"severity:'CRITICAL',"
	"setvar:'tx.php_injection_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
#undef PROMQL_MOD
#undef SECNUM
	/* D30.  932130 (Unix shell expression) reads "$(...)", "${...}" and
	 * process substitution "<(...)" / ">(...)" after t:cmdLine, which
	 * deletes a space before "(".  A JavaScript stack trace, the Node.js
	 * and Chrome format of every error beacon, "at Object.<anonymous>
	 * (app.js:1:9981)", becomes ">(app.js:1:9981)".  A shell reads "> ("
	 * as a redirection then a syntax error; process substitution needs
	 * "<(" or ">(" side by side (a backslash-newline between them is
	 * removed first, so it counts).  For request arguments 90049 keeps
	 * the "$(" / "${" branches with 932130's transformations, and 90050
	 * reads "<(" / ">(" without t:cmdLine.  Cookies, names and XML keep
	 * 932130. */
	"SecRuleUpdateTargetById 932130 \"!ARGS\"\n"
	"SecRule ARGS \"@rx \\$(?:\\((?:\\(.*\\)|.*)\\)|\\{.*\\})\" "
	"\"id:90049,phase:2,block,capture,t:none,t:urlDecodeUni,t:cmdLine,"
	"msg:'Remote Command Execution: Unix Shell Expression Found (gatehouse default: 932130, "
	"substitutions)',logdata:'%{MATCHED_VAR_NAME}',tag:'attack-rce',tag:'paranoia-level/1',"
	"severity:'CRITICAL'," FT_RCE_SCORE "\"\n"
	"SecRule ARGS \"@rx [<>](?:\\\\\\r?\\n)*\\(.*\\)\" "
	"\"id:90050,phase:2,block,capture,t:none,t:urlDecodeUni,t:removeNulls,"
	"msg:'Remote Command Execution: Unix Shell Expression Found (gatehouse default: 932130, "
	"process substitution without t:cmdLine)',logdata:'%{MATCHED_VAR_NAME}',tag:'attack-rce',"
	"tag:'paranoia-level/1',severity:'CRITICAL'," FT_RCE_SCORE "\"\n"
#undef FREE_TEXT
	/* D16. Source code in a code-sharing resource (a snippet store, gists,
	 * a pastebin: a path ending in /snippets, /gists, /pastes or one item
	 * of them): its `code` (or `snippet`, `source_code`) argument is SQL,
	 * shell or HTML by purpose, like a free-text field that only holds
	 * code.  It gets the free-text treatment of D8-D10: the keyword rules
	 * no longer read it there, 90038-90041 (90032-90035's patterns) do.
	 * Only under such a path: elsewhere `code` is a coupon, an OAuth
	 * code, a verification code, and every rule reads it.  A path
	 * parameter (";") or a dot segment after the collection is no such
	 * path. */
#define SNIPPET_PATH "(?i)^[^;]*/(?:snippets?|gists?|pastes?)(?:/[\\w-][\\w.-]*)?/?$"
#define SNIPPET_ARGS "ARGS:code|ARGS:json.code|ARGS:snippet|ARGS:json.snippet|" \
	"ARGS:source_code|ARGS:json.source_code"
#define SNIPPET_RM(rule) "ctl:ruleRemoveTargetById=" rule ";ARGS:code," \
	"ctl:ruleRemoveTargetById=" rule ";ARGS:json.code," \
	"ctl:ruleRemoveTargetById=" rule ";ARGS:snippet," \
	"ctl:ruleRemoveTargetById=" rule ";ARGS:json.snippet," \
	"ctl:ruleRemoveTargetById=" rule ";ARGS:source_code," \
	"ctl:ruleRemoveTargetById=" rule ";ARGS:json.source_code"
	"SecRule REQUEST_FILENAME \"@rx " SNIPPET_PATH "\" \"id:90029,phase:1,pass,nolog,t:none,"
	SNIPPET_RM("942100") "," SNIPPET_RM("942140") "," SNIPPET_RM("90055") "," SNIPPET_RM("942190") "," SNIPPET_RM("90045") ","
	SNIPPET_RM("942350") "," SNIPPET_RM("942360") "," SNIPPET_RM("90046") ","
	SNIPPET_RM("941100") "," SNIPPET_RM("941160") "," SNIPPET_RM("941180") "," SNIPPET_RM("90044") ","
	SNIPPET_RM("932100") "," SNIPPET_RM("932105") "," SNIPPET_RM("932110") ","
	SNIPPET_RM("932115") "," SNIPPET_RM("932150") "," SNIPPET_RM("932160") ","
	SNIPPET_RM("930120") "\"\n"
#define SNIPPET_RULE(id, msg, tag) "SecRule REQUEST_FILENAME \"@rx " SNIPPET_PATH "\" " \
	"\"id:" id ",phase:2,block,t:none,chain,msg:'" msg " in a code-sharing field (gatehouse default)'," \
	"logdata:'%{MATCHED_VAR_NAME}',tag:'" tag "',tag:'paranoia-level/1',severity:'CRITICAL'\"\n"
	SNIPPET_RULE("90038", "SQL injection", "attack-sqli")
	"SecRule " SNIPPET_ARGS " \"@rx " FT_SQLI_RX "\" \"" FT_SQLI_T ",chain\"\n"
	"SecRule MATCHED_VARS \"@detectSQLi\" \"t:none," FT_SQLI_SCORE "\"\n"
	SNIPPET_RULE("90039", "XSS: active content", "attack-xss")
	"SecRule " SNIPPET_ARGS " \"@rx " FT_XSS_RX "\" \"" FT_XSS_T "," FT_XSS_SCORE "\"\n"
	SNIPPET_RULE("90040", "Command injection", "attack-rce")
	"SecRule " SNIPPET_ARGS " \"@rx " FT_CMD_RX "\" \"" FT_CMD_T "," FT_RCE_SCORE "\"\n"
	SNIPPET_RULE("90041", "OS file access", "attack-lfi")
	"SecRule " SNIPPET_ARGS " \"@rx " FT_FILE_RX "\" \"" FT_FILE_T "," FT_LFI_SCORE "\"\n"
#undef SNIPPET_RULE
#undef SNIPPET_RM
#undef SNIPPET_ARGS
#undef SNIPPET_PATH
#undef FT_SQLI_RX
#undef QUOTED_WORD
#undef FT_SQLI_T
#undef FT_SQLI_SCORE
#undef FT_XSS_RX
#undef FT_XSS_T
#undef FT_XSS_SCORE
#undef FT_CMD_RX
#undef MD_TABLE
#undef FT_CMD_T
#undef FT_RCE_SCORE
#undef FT_FILE_RX
#undef FT_FILE_T
#undef FT_LFI_SCORE
	/* D13. URLs inside parameters (return_url, returnUrl, redirect_uri,
	 * next, continue, callback, target ...): a link back into the site
	 * carries its own query, "/orders?page=2&sort=desc", and 932115 reads
	 * "&sort" as the Windows command; "&type=", "&start=", "&find=",
	 * "&set=" likewise.  The command-word rules no longer read arguments
	 * named like a URL; 90036 refuses what a URL handed to a shell needs
	 * to break out: ";", "|", a backtick, "$(" or "${", "&&" or a "&"
	 * after a space or at the start, a line break before a command word.  The RFI/SSRF rules
	 * (931xxx), traversal and every other rule still read them. */
#define URL_NAME "(?i)(?:^|[.\\[])(?:[a-z0-9_-]*(?:url|uri|href)s?|next|continue|redirect|" \
	"return|return_?to|goto|target|dest|destination|callback|back)\\]?$"
#define URL_ARG "ARGS:'/" URL_NAME "/'"
	"SecRuleUpdateTargetById 932100 \"!" URL_ARG "\"\n"
	"SecRuleUpdateTargetById 932105 \"!" URL_ARG "\"\n"
	"SecRuleUpdateTargetById 932110 \"!" URL_ARG "\"\n"
	"SecRuleUpdateTargetById 932115 \"!" URL_ARG "\"\n"
	"SecRuleUpdateTargetById 932150 \"!" URL_ARG "\"\n"
	"SecRuleUpdateTargetById 932160 \"!" URL_ARG "\"\n"
	/* The first link (a URL-named argument exists) was written for a
	 * pre-filter that read a regex-selected target as every argument; it
	 * now selects exactly as ModSecurity does (pf_scan.c), so the link only
	 * costs a name check.  A line break counts only before a command
	 * word: the pre-filter joins fields with line breaks. */
	"SecRule ARGS_NAMES \"@rx " URL_NAME "\" \"id:90036,phase:2,block,t:none,chain,"
	"msg:'Command injection in a URL parameter (gatehouse default: a shell separator or substitution)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-rce',tag:'paranoia-level/1',severity:'CRITICAL'\"\n"
	"SecRule " URL_ARG " \"@rx [;|`]|\\$[({]|&&|(?:^|\\s)&|"
	"[\\r\\n]\\s*(?:wget|curl|nc|ncat|bash|sh|zsh|python[23]?|perl|php|ruby|cat|id|whoami|uname|"
	"ping|nslookup|powershell|cmd)\\b\" "
	"\"t:none,t:removeNulls,"
	"setvar:'tx.rce_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
#undef URL_ARG
#undef URL_NAME
	/* D49 ...and a comparison written in the query string, as ERDDAP's
	 * constraints ("&time>=2026-11-01", "&station!=..."), OpenSearch
	 * and many list APIs send them: the name ends in "<", ">" or "!"
	 * ("time>"), which 932150 reads as a command word and a redirection.
	 * 932150 no longer reads an argument name of word characters ending
	 * in one of them; it reads its value, and every other name, as
	 * before; the other command rules read the name. */
	"SecRuleUpdateTargetById 932150 \"!ARGS_NAMES:'/^\\w{1,64}[<>!]$/'\"\n"
	/* D49. Parameters that carry a filter language by protocol: OGC's
	 * CQL_FILTER (GeoServer WFS/WMS), OData's $filter, and ArcGIS REST's
	 * where on a .../query path.  Their ordinary content is a WHERE clause
	 * (STATE_NAME LIKE 'N%' AND PERSONS > 15000000, ZONING = 'R-1'), which
	 * libinjection (942100) reads as SQL injection by design.  942100 no
	 * longer reads them (90068, 90083); 90069 and 90084 do instead: what a
	 * filter never needs and an injection does: UNION SELECT, a subquery
	 * (select ... from), a statement after ';', a comment (--, slash-star,
	 * #), a tautology of quoted literals (or '1'='1), delays, xp_ and
	 * exec, file writes, information_schema.  Every other SQL rule
	 * (942190, 942270, 942160 ...) reads them as before. */
#define QL_SQL "\"@rx (?i)union[\\s(]+(?:all[\\s(]+)?select|\\bselect\\b[\\s\\S]*?\\bfrom\\b|" \
	";\\s*[a-z]|--|/\\*|#|\\b(?:sleep|benchmark|pg_sleep)\\s*\\(|waitfor\\s+delay|\\bxp_\\w|" \
	"\\bexec(?:ute)?\\s|into\\s+(?:out|dump)file|load_file|information_schema|" \
	"\\bor\\s+'([^']{0,32})'\\s*=\\s*'\\1\" "
#define QL_ACT(id) "\"id:" id ",phase:2,block,t:none,t:urlDecodeUni," \
	"msg:'SQL injection in a filter-language parameter (gatehouse default: 942100 stand-in)'," \
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-sqli',tag:'paranoia-level/1',severity:'CRITICAL'," \
	"setvar:'tx.sql_injection_score=+%{tx.critical_anomaly_score}'," \
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	"SecAction \"id:90068,phase:1,pass,nolog,t:none,"
	"ctl:ruleRemoveTargetById=942100;ARGS:cql_filter,ctl:ruleRemoveTargetById=942100;ARGS:CQL_FILTER,"
	"ctl:ruleRemoveTargetById=942100;ARGS:$filter\"\n"
	"SecRule ARGS:cql_filter|ARGS:$filter " QL_SQL QL_ACT("90069")
	"SecRule REQUEST_FILENAME \"@rx /query$\" \"id:90083,phase:1,pass,nolog,t:none,"
	"ctl:ruleRemoveTargetById=942100;ARGS:where\"\n"
	"SecRule REQUEST_FILENAME \"@rx /query$\" \"id:90084,phase:2,block,t:none,chain,"
	"msg:'SQL injection in a filter-language parameter (gatehouse default: 942100 stand-in)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-sqli',tag:'paranoia-level/1',severity:'CRITICAL'\"\n"
	"SecRule ARGS:where " QL_SQL "\"t:none,t:urlDecodeUni,"
	"setvar:'tx.sql_injection_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
#undef QL_ACT
#undef QL_SQL
	/* D50. 941310 ("US-ASCII malformed encoding XSS") reads the bytes
	 * 0xBC and 0xBE as "<" and ">", as a browser rendering a page in
	 * 7-bit US-ASCII would: "\xbcscript\xbe" is "<script>" there.  In
	 * UTF-8 text both bytes are continuation bytes of ordinary letters
	 * (Cyrillic "м" D0 BC and "о" D0 BE, most CJK characters), so every
	 * Russian, Chinese or Japanese sentence with one before the other is
	 * refused (coreruleset issues 1942, 3178, 4005).  90085 is 941310
	 * with utf8toUnicode after the first URL decoding: a well-formed
	 * UTF-8 character becomes %uHHHH text and no longer reads as a
	 * bracket; a byte that is no part of a character (a stray 0xBC, a
	 * lead byte cut short) is kept as it is, and the characters U+00BC
	 * and U+00BE themselves ("¼script¾", the CRS's own test) are matched
	 * as %u00bc and %u00be.  An overlong or surrogate sequence (C0 BC is
	 * "<" to a decoder that takes overlongs) becomes %uHHHH followed by
	 * its raw lead byte, no UTF-8 text ever does: it counts as either
	 * bracket (D50_BAD).  Entities, JS escapes and a second URL
	 * encoding are decoded after it, to single bytes, as before.  Same
	 * targets as 941310; `exclude 941310` removes it too. */
#define D50_BAD "%u[0-9a-f]{4}[\\xc0-\\xff]"
	"SecRuleUpdateTargetById 941310 \"!REQUEST_COOKIES|!REQUEST_COOKIES_NAMES|!ARGS_NAMES|!ARGS|!XML:/*\"\n"
	"SecRule REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/|REQUEST_COOKIES_NAMES|ARGS_NAMES|ARGS|XML:/* "
	"\"@rx (?:\\xbc|%u00bc|" D50_BAD ")[^\\xbe>]*?(?:[\\xbe>]|%u00be|" D50_BAD ")|"
	"<[^\\xbe]*?(?:\\xbe|%u00be|" D50_BAD ")\" "
	"\"id:90085,phase:2,block,capture,t:none,t:urlDecodeUni,t:utf8toUnicode,t:lowercase,t:urlDecode,"
	"t:htmlEntityDecode,t:jsDecode,"
	"msg:'US-ASCII Malformed Encoding XSS Filter (gatehouse default: 941310 on bytes that are no UTF-8 character)',"
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-xss',tag:'paranoia-level/1',severity:'CRITICAL',"
	"setvar:'tx.xss_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
#undef D50_BAD
	/* D51. Accept (920600): the CRS checks a charset parameter against
	 * four charsets, but its grammar also refuses two shapes ordinary
	 * clients send: a quoted parameter value (IIIF's and JSON-LD's
	 * profile="http://iiif.io/api/image/3/context.json", RFC 9110
	 * quoted-string) and Java's HttpURLConnection default, "text/html,
	 * image/gif, image/jpeg, *; q=.2" and the any-type range with
	 * q=.2, whose bare "*" every Java client before 19 sends (JDK-8163921; coreruleset 3088, 3289).
	 * 920600 is lifted when the one Accept header is a list of media
	 * ranges (token/token or "*") with token=token or token="URI
	 * characters and spaces" parameters, and names no charset: any
	 * charset parameter, any other character or a second header keeps
	 * 920600 as it is. */
#define ACC_TOK "[a-z0-9!#$%&*+.^_|~-]+"
#define ACC_RANGE "(?:\\*|" ACC_TOK "/" ACC_TOK ")(?:[ \\t]*;[ \\t]*" ACC_TOK "=(?:" ACC_TOK "|" \
	"\\\"[a-z0-9._~:/?#\\[\\]@!$&*+,;=% -]{0,256}\\\"))*"
	"SecRule &REQUEST_HEADERS:Accept \"@eq 1\" \"id:90086,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule REQUEST_HEADERS:Accept \"@rx ^(?!.*charset)" ACC_RANGE "(?:[ \\t]*,[ \\t]*" ACC_RANGE ")*$\" "
	"\"t:none,t:lowercase,ctl:ruleRemoveById=920600\"\n"
#undef ACC_RANGE
#undef ACC_TOK
	/* D51 ...and Content-Type (920470 admits the charset, boundary,
	 * type, action and start parameters): JSON-LD's profile parameter
	 * (the JSON-LD 1.1 media type registration; the W3C Web Annotation
	 * protocol's application/ld+json; profile="http://www.w3.org/ns/
	 * anno.jsonld"; ActivityPub's the same).  On one Content-Type header
	 * of a JSON type (application/json, application/...+json), a quoted
	 * profile of one to four http(s) URIs of URI characters, and at most
	 * a utf-8 charset besides, 920470 is lifted; the body is read as
	 * JSON as before. */
#define CT_CS "(?:[ \\t]*;[ \\t]*charset=\\\"?utf-8\\\"?)?"
	"SecRule &REQUEST_HEADERS:Content-Type \"@eq 1\" \"id:90087,phase:1,pass,nolog,t:none,chain\"\n"
	"SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/(?:[a-z0-9.-]{1,64}\\+)?json" CT_CS
	"[ \\t]*;[ \\t]*profile=\\\"https?://[a-z0-9._~:/?#\\[\\]@!$&*+,;=%-]{1,256}"
	"(?: https?://[a-z0-9._~:/?#\\[\\]@!$&*+,;=%-]{1,256}){0,3}\\\"" CT_CS "[ \\t]*$\" "
	"\"t:none,t:lowercase,ctl:ruleRemoveById=920470\"\n"
#undef CT_CS
	/* D52. D49's filter languages, two more by protocol: Jira's JQL in
	 * jql (project = OPS AND status in ("In Progress") AND assignee =
	 * currentUser() ORDER BY priority DESC) and 1EdTech OneRoster's
	 * filter on an /ims/oneroster/ path (status='active' AND
	 * familyName~'Mc').  942100 no longer reads them, nor 90045 jql
	 * (942190's user( matches currentUser()); 90089 and 90091 read them
	 * as 90069 does (union select, a subquery, a statement after ";", a
	 * comment, a quoted tautology, delays, xp_, exec, file writes,
	 * information_schema); every other SQL rule as before. */
#define QL_SQL "\"@rx (?i)union[\\s(]+(?:all[\\s(]+)?select|\\bselect\\b[\\s\\S]*?\\bfrom\\b|" \
	";\\s*[a-z]|--|/\\*|#|\\b(?:sleep|benchmark|pg_sleep)\\s*\\(|waitfor\\s+delay|\\bxp_\\w|" \
	"\\bexec(?:ute)?\\s|into\\s+(?:out|dump)file|load_file|information_schema|" \
	"\\bor\\s+'([^']{0,32})'\\s*=\\s*'\\1\" "
#define QL_MSG "msg:'SQL injection in a filter-language parameter (gatehouse default: 942100 stand-in)'," \
	"logdata:'%{MATCHED_VAR_NAME}',tag:'attack-sqli',tag:'paranoia-level/1',severity:'CRITICAL'"
#define QL_SCORE "setvar:'tx.sql_injection_score=+%{tx.critical_anomaly_score}'," \
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'"
	"SecAction \"id:90088,phase:1,pass,nolog,t:none,"
	"ctl:ruleRemoveTargetById=942100;ARGS:jql,ctl:ruleRemoveTargetById=90045;ARGS:jql\"\n"
	"SecRule ARGS:jql " QL_SQL "\"id:90089,phase:2,block,t:none,t:urlDecodeUni," QL_MSG "," QL_SCORE "\"\n"
	"SecRule REQUEST_FILENAME \"@contains /ims/oneroster/\" \"id:90090,phase:1,pass,nolog,t:none,"
	"ctl:ruleRemoveTargetById=942100;ARGS:filter\"\n"
	"SecRule REQUEST_FILENAME \"@contains /ims/oneroster/\" \"id:90091,phase:2,block,t:none,chain,"
	QL_MSG "\"\n"
	"SecRule ARGS:filter " QL_SQL "\"t:none,t:urlDecodeUni," QL_SCORE "\"\n"
	/* D56. Two more query languages by protocol, read as D49 and D52
	 * read theirs: the Google Visualization API's query in tq ("select
	 * A, sum(C) where B = 'EMEA' group by A", Google Sheets' gviz and
	 * every data source that implements the protocol) and Confluence's
	 * CQL in cql (siteSearch ~ "onboarding" AND type in ("page",
	 * "blogpost")).  942100 no longer reads them (90092); 90093 reads
	 * them with D49's pattern, which also refuses the injections
	 * libinjection lets through in a value that opens with "select"
	 * (it parses such a value as a query of its own: "select A where B
	 * = 'x' or 'a'='a' --" scores nothing at PL1).  Every other SQL
	 * rule reads them as before; `exclude 942100` removes 90093. */
	"SecAction \"id:90092,phase:1,pass,nolog,t:none,"
	"ctl:ruleRemoveTargetById=942100;ARGS:tq,ctl:ruleRemoveTargetById=942100;ARGS:cql\"\n"
	"SecRule ARGS:tq|ARGS:cql " QL_SQL "\"id:90093,phase:2,block,t:none,t:urlDecodeUni," QL_MSG "," QL_SCORE "\"\n"
#undef QL_SCORE
#undef QL_MSG
#undef QL_SQL
	/* Detections the CRS 3.3.4 Debian ships lacks (the corpus's misses).
	 * G1. Log4j lookups (CVE-2021-44228 and its obfuscations) in any
	 * header, cookie, argument or the request line: "${" opening a lookup
	 * name and a colon, or a lookup nested inside another one; in an XML
	 * body its text and, as the CRS's 944 rules, its attributes (a
	 * CalDAV filter's name="..."). */
	"SecRule REQUEST_LINE|ARGS|ARGS_NAMES|REQUEST_COOKIES|REQUEST_COOKIES_NAMES|"
	"REQUEST_HEADERS|XML:/*|XML://@* \"@rx \\$\\{(?:[^{}]{0,24}\\$\\{|\\s*(?:jndi|ctx|lower|upper|env|sys|"
	"date|main|k8s|sd|base64|java|bundle|spring|docker|log4j|web|marker|event)\\s*:)\" "
	"\"id:90030,phase:2,block,t:none,t:urlDecodeUni,t:lowercase,"
	"msg:'Log4j lookup (JNDI injection, CVE-2021-44228)',logdata:'%{MATCHED_VAR_NAME}',"
	"tag:'attack-rce',tag:'paranoia-level/1',severity:'CRITICAL',"
	"setvar:'tx.rce_score=+%{tx.critical_anomaly_score}',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	/* G2. JavaScript prototype pollution through argument names
	 * (`__proto__[x]`, `constructor[prototype]`, JSON keys: ModSecurity
	 * names them json.constructor.prototype...). */
	"SecRule ARGS_NAMES|REQUEST_COOKIES_NAMES \"@rx __proto__|constructor(?:\\.|\\[)prototype\" "
	"\"id:90031,phase:2,block,t:none,t:urlDecodeUni,t:lowercase,"
	"msg:'JavaScript prototype pollution',logdata:'%{MATCHED_VAR_NAME}',"
	"tag:'attack-injection-generic',tag:'paranoia-level/1',severity:'CRITICAL',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	/* G3. Server-side request forgery: a URL the server would fetch that
	 * points at a cloud metadata service, at loopback written so that a
	 * "127.0.0.1"-style filter misses it, at an internal service, or uses
	 * a scheme that only serves to talk raw bytes to one.  The CRS 3.3.4
	 * has no SSRF rules: 931100 refuses "http(s)/ftp/file://" followed by a
	 * dotted IPv4 address at the start of an argument, 931130 (PL2) any
	 * link off the site; the named metadata hosts, numeric and IPv6
	 * forms of an address and gopher:/dict: pass PL1.  Read only where a
	 * value is a URL: at the start of the value (or of a line: libmodsecurity
	 * compiles every @rx multi-line, so one URL a line in a list counts),
	 * after a comma (CSV rows, lists), or as the value of a query
	 * parameter inside the value ("?next=", "&u=": an open redirect
	 * wrapping the target), or where HTML, CSS or markdown makes a renderer
	 * fetch it (src=, data=, poster=, background=, url(, ![](): an HTML to
	 * PDF or image service; a link, <a href> or [](), does not fetch).  Prose that mentions a URL mid-sentence ("the
	 * SDK asks http://169.254.169.254/ when ..."), and env lines
	 * ("REDIS_URL=http://localhost:6379"), pass.  After http(s), ws(s)
	 * or ftp(s) any run of / and \ (WHATWG URL parsers read "http:/x" and
	 * "http:\\x" as "http://x"); 90070's addresses and cloud names after
	 * any scheme and two, or a protocol-relative "//"; 90071 only in such
	 * web URLs (a code comment "//2024/05/01", a bucket "gs://2024/" are
	 * not hosts); userinfo ("user@") before the host.  Plain
	 * "localhost" and private addresses are not refused at PL1 (a dev
	 * redirect_uri "http://localhost:3000/callback"); 931100 still refuses
	 * a dotted IPv4 URL, and at PL2 931130 every off-site one.  file:// is
	 * left to the LFI rules (930100-930120 read the path; a page opened from
	 * disk sends its file:// address in analytics beacons).  tests/waf/
	 * default-exclusions.md, "native detections: SSRF". */
#define SSRF_CTX "(?:^\\s*|,|[?&][^=&#\\s]*=\\s*|\\b(?:src|data|poster|background)\\s*=\\s*[\\\"']?|" \
	"url\\(\\s*[\\\"']?|!\\[[^\\]\\r\\n]*\\]\\(\\s*)"
#define SSRF_SCHEME "[a-z][a-z0-9+.\\-]*:(?:[a-z]+:)?[/\\\\]{2}|(?:https?|wss?|ftps?):[/\\\\]+"
#define SSRF_WEB "(?:[a-z]+:)?(?:https?|wss?|ftps?):[/\\\\]+"
#define SSRF_UI "(?:[^/?#\\\\\\s@]*@)?"
#define SSRF_URL SSRF_CTX "(?:" SSRF_SCHEME "|[/\\\\]{2})" SSRF_UI
#define SSRF_META_IP "(?:169\\.254\\.169\\.254|169\\.254\\.170\\.2|100\\.100\\.100\\.200|" \
	"168\\.63\\.129\\.16)(?:[^0-9]|$)"
#define SSRF_N "(?:0x[0-9a-f]*|\\d+)"
#define SSRF_ODD_HOST "(?:(?:0x[0-9a-f]+|\\d+|" SSRF_N "\\." SSRF_N "(?:\\." SSRF_N ")?|" \
	"(?:" SSRF_N "\\.)*(?:0x[0-9a-f]*|0\\d+)(?:\\." SSRF_N ")*)\\.?(?:[:/?#\\\\]|$)|" \
	"\\[(?:(?:0{0,4}:){2,}|fe[89a-f][0-9a-f]:|f[cd][0-9a-f]{2}:|64:ff9b:))"
#define SSRF_ACT(id, what) "\"id:" id ",phase:2,block,t:none,t:urlDecodeUni,t:lowercase," \
	"msg:'Server-side request forgery: " what "'," \
	"logdata:'%{MATCHED_VAR_NAME}'," \
	"tag:'attack-ssrf',tag:'paranoia-level/1',severity:'CRITICAL'," \
	"setvar:'tx.rfi_score=+%{tx.critical_anomaly_score}'," \
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	/* 90070: cloud metadata services: AWS/GCP/Azure/OCI/DigitalOcean
	 * 169.254.169.254 (and AWS's IPv6 fd00:ec2::254), ECS task
	 * credentials 169.254.170.2, Alibaba 100.100.100.200, Azure's
	 * WireServer 168.63.129.16, GCP's names (metadata.google.internal,
	 * metadata.goog, "metadata" alone), AWS's instance-data (the two
	 * bare names only in a web URL: s3://metadata/ is a bucket); the IP as a
	 * wildcard-DNS name (169-254-169-254.nip.io); or the whole value (a
	 * line) being the host, with a port or not (a split host/port form). */
	"SecRule ARGS \"@rx " SSRF_URL "(?:" SSRF_META_IP "|(?:metadata\\.google\\.internal|metadata\\.goog|"
	"instance-data\\.ec2\\.internal)\\.?(?:[:/?#\\\\]|$)|\\[fd00:ec2::254\\]|"
	"(?:[a-z0-9\\-]+[.\\-])?169-254-169-254\\.)|"
	SSRF_CTX "(?:" SSRF_WEB "|[/\\\\]{2})" SSRF_UI "(?:metadata|instance-data)\\.?(?:[:/?#\\\\]|$)|"
	"^\\s*(?:169\\.254\\.169\\.254|169\\.254\\.170\\.2|"
	"100\\.100\\.100\\.200|\\[?fd00:ec2::254\\]?|metadata\\.google\\.internal|metadata\\.goog)"
	"(?::\\d+)?\\s*$\" " SSRF_ACT("90070", "cloud metadata service")
	/* 90071: an IPv4 host no one writes but to dodge a filter: one number
	 * (http://2130706433, http://0x7f000001, http://0), two or three
	 * parts (http://127.1), any hex or 0-led octal part (0x7f.0.0.1,
	 * 0177.0.0.1); an IPv6 host in [::] whose leading groups are zero
	 * (::1, ::, ::ffff:127.0.0.1, ::ffff:a9fe:a9fe, ::127.0.0.1),
	 * link-local fe80::/10 (and deprecated site-local), unique-local
	 * fc00::/7, NAT64 64:ff9b::.  A dotted-quad IPv4 host is 931100's.
	 * Only in a web URL (http, ws, ftp; jar:http): s3://2024/ is a bucket. */
	"SecRule ARGS \"@rx " SSRF_CTX SSRF_WEB SSRF_UI SSRF_ODD_HOST "\" "
	SSRF_ACT("90071", "numeric or IPv6 loopback, link-local or private host")
	/* 90072: schemes that serve only to write raw bytes to an internal
	 * service (gopher: to Redis or memcached, dict:), TFTP, and Java's
	 * netdoc: and jar: (a remote archive).  ldap:// is not here: a
	 * directory setting is ordinary (ldaps://ldap.example.com), and
	 * Log4j's ${jndi:ldap:...} is 90030's. */
	"SecRule ARGS \"@rx " SSRF_CTX "(?:(?:gopher|dict|tftp|netdoc):|jar:(?:https?|ftps?):)[/\\\\]{2}\" "
	SSRF_ACT("90072", "gopher, dict, tftp, netdoc or jar URL")
	/* 90073: loopback on the port of a service with an unauthenticated
	 * HTTP or text API (Docker 2375/2376/4243, kubelet 10250/10255, etcd,
	 * Consul, ZooKeeper, Redis, memcached, Elasticsearch, Solr, CouchDB,
	 * MongoDB, MySQL, PostgreSQL) in an http(s)/ws(s) URL: no OAuth
	 * callback or dev server listens there. */
	"SecRule ARGS \"@rx " SSRF_CTX "(?:(?:https?|wss?):[/\\\\]+|[/\\\\]{2})" SSRF_UI
	"(?:(?:[a-z0-9\\-]+\\.)*localhost(?:\\.localdomain)?|127\\.\\d+\\.\\d+\\.\\d+|0\\.0\\.0\\.0|"
	"\\[::1?\\])\\.?:(?:2181|2375|2376|2379|3306|4243|5432|5984|6379|8500|8983|9200|10250|10255|11211|"
	"27017)(?:[^0-9]|$)\" "
	SSRF_ACT("90073", "loopback port of an internal service")
	/* 90075: a URL in the request path, as image proxies and renderers
	 * take it (/unsafe/300x200/http://..., /proxy/http:/...: a server may
	 * fold the slashes), to a metadata address or name, a 90071 host, or
	 * by gopher/dict.  Other hosts pass (a web archive's
	 * /web/2024/https://example.com/). */
	"SecRule REQUEST_FILENAME \"@rx /(?:(?:gopher|dict):/|(?:[a-z]+:)?(?:https?|wss?|ftps?):/+" SSRF_UI
	"(?:" SSRF_META_IP "|(?:metadata\\.google\\.internal|metadata\\.goog|metadata|instance-data"
	"(?:\\.ec2\\.internal)?)\\.?(?:[:/?#\\\\]|$)|" SSRF_ODD_HOST "))\" "
	SSRF_ACT("90075", "URL in the request path")
	/* G4. Code in an image upload: a multipart part whose Content-Type is
	 * image/... and whose content holds "<?php" (a web shell behind a GIF
	 * or JPEG header, run by a server that executes by extension) or a
	 * "<script" tag (an SVG, or any image a browser may sniff as HTML).
	 * The CRS reads file parts only by name (933110, extensions); libmodsecurity
	 * 3 extracts no file content (FILES_TMP_CONTENT is empty), so this reads
	 * the raw body, from the part's blank line up to the next line that
	 * opens with "--" (a boundary).  "<?xml" and XMP's "<?xpacket" are not
	 * PHP; "<?=" is not here: three bytes that random binary holds. */
	"SecRule REQUEST_BODY \"@rx (?i)content-type:[ \\t]*image/[^\\r\\n]*\\r?\\n(?:[^\\r\\n]+\\r?\\n)*\\r?\\n"
	"(?:(?![\\r\\n]--).)*?(?:<\\?php|<script[\\s/>])\" "
	"\"id:90074,phase:2,block,t:none,"
	"msg:'Code in an image upload (PHP or a script tag)',logdata:'%{MATCHED_VAR_NAME}',"
	"tag:'attack-injection-generic',tag:'paranoia-level/1',severity:'CRITICAL',"
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	/* G5. The same in a raw image, audio or video body (what D6 and D43
	 * admit): "<?php" or a "<script" tag anywhere in it. */
	"SecRule REQUEST_HEADERS:Content-Type \"@rx ^(?:image|audio|video)/\" "
	"\"id:90076,phase:2,block,t:none,t:lowercase,chain,"
	"msg:'Code in an image upload (PHP or a script tag)',logdata:'%{MATCHED_VAR_NAME}',"
	"tag:'attack-injection-generic',tag:'paranoia-level/1',severity:'CRITICAL'\"\n"
	"SecRule REQUEST_BODY \"@rx (?i)<\\?php|<script[\\s/>]\" "
	"\"t:none,setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	/* G6 (twelfth round, 90100-90119): attack shapes the CRS 3.3.4 at
	 * PL1 lets through with no rule matching (holdout14-16's misses;
	 * tests/waf/default-exclusions.md, "Twelfth round, detection"). */
#define G6_ACT(id, t, msg, tag, score) "\"id:" id ",phase:2,block,t:none" t "," \
	"msg:'" msg "',logdata:'%{MATCHED_VAR_NAME}',tag:'" tag "',tag:'paranoia-level/1'," \
	"severity:'CRITICAL',setvar:'tx." score "=+%{tx.critical_anomaly_score}'," \
	"setvar:'tx.anomaly_score_pl1=+%{tx.critical_anomaly_score}'\"\n"
	/* 90100: an XML external entity (XXE): an entity declaration, general
	 * or parameter ("<!ENTITY % p"), whose value is SYSTEM or PUBLIC, an
	 * address the parser fetches.  In the raw body (an XML body, an XML
	 * file in a multipart part) and in any argument (XML in a form field
	 * or a JSON string).  A DOCTYPE alone is not (cXML's own
	 * "<!DOCTYPE cXML SYSTEM ...cXML.dtd>", XHTML, plist), nor an internal
	 * entity ("<!ENTITY nbsp \"&#160;\">"). */
	"SecRule ARGS|REQUEST_BODY \"@rx (?i)<!ENTITY\\s+(?:%\\s+)?[^\\s>]+\\s+(?:SYSTEM|PUBLIC)[\\s\\\"']\" "
	G6_ACT("90100", "", "XML external entity declaration (XXE)", "attack-xxe", "rfi_score")
	/* 90101: Spring4Shell (CVE-2022-22965) and its Struts/Spring ancestors
	 * (CVE-2010-1622, S2-020): a request parameter named as a bean path
	 * through the object's class to its class loader or module
	 * ("class.module.classLoader...", "class['classLoader']"). */
	"SecRule ARGS_NAMES \"@rx (?i)(?:^|[.\\[])class(?:\\.|\\[\\s*[\\\"']?)(?:module|classloader|protectiondomain)\\b\" "
	G6_ACT("90101", "", "Spring4Shell: class loader through a bean property path", "attack-rce", "rce_score")
	/* 90102: a serialized Java object (stream magic AC ED 00 05) opening a
	 * cookie, header or argument, in base64 ("rO0AB": every stream, which
	 * 944210's PL2 "rO0ABQ" misses, as the byte after the magic is 0x7x:
	 * "rO0ABX") or hex: Shiro's rememberMe and kin. */
	"SecRule REQUEST_COOKIES|REQUEST_HEADERS|ARGS \"@rx ^[\\s\\\"']*(?:rO0AB|[aA][cC][eE][dD]0005)\" "
	G6_ACT("90102", "", "Serialized Java object (base64 or hex stream magic)", "attack-rce", "rce_score")
	/* 90103: a path traversal in a multipart part's file name
	 * ("../../home/app/.ssh/authorized_keys"): 930100-930110 read no
	 * FILES in 3.3.4, and a browser sends a file's base name only. */
	"SecRule FILES \"@rx (?:^|[\\\\/])\\.\\.(?:[\\\\/]|$)\" "
	G6_ACT("90103", ",t:urlDecodeUni", "Path traversal in an upload file name", "attack-lfi", "lfi_score")
	/* 90104: SQL injection in a client-address header: an application
	 * that logs or rate-limits by X-Forwarded-For (or its kin) writes the
	 * value into SQL, and the CRS's SQL rules read only User-Agent and
	 * Referer among headers.  libinjection, as 942100. */
	"SecRule REQUEST_HEADERS:X-Forwarded-For|REQUEST_HEADERS:X-Real-IP|REQUEST_HEADERS:X-Client-IP|"
	"REQUEST_HEADERS:Client-IP|REQUEST_HEADERS:True-Client-IP|REQUEST_HEADERS:CF-Connecting-IP|"
	"REQUEST_HEADERS:X-Originating-IP|REQUEST_HEADERS:X-Cluster-Client-IP \"@detectSQLi\" "
	G6_ACT("90104", ",t:urlDecodeUni", "SQL injection in a client address header (libinjection)",
	       "attack-sqli", "sql_injection_score")
	/* 90105: operations endpoints that hand out secrets or control: Spring
	 * Boot's actuator env, heap and thread dumps, Jolokia, gateway routes,
	 * shutdown, loggers, configuration; Apache's server-status and
	 * server-info.  health, info, metrics and prometheus pass.  A path
	 * parameter (Tomcat's "/actuator;x/env") counts as the segment. */
	"SecRule REQUEST_FILENAME \"@rx /(?:actuator(?:;[^/]*)?/+(?:env|heapdump|threaddump|jolokia|gateway|"
	"shutdown|restart|refresh|loggers|configprops|beans|mappings|conditions|httptrace|trace|"
	"logfile|sessions|auditevents|scheduledtasks|caches|flyway|liquibase|startup|integrationgraph)|"
	"server-(?:status|info))(?:[;/]|$)\" "
	G6_ACT("90105", ",t:urlDecodeUni,t:lowercase", "Operations endpoint probe (Spring actuator, server-status)",
	       "attack-disclosure", "lfi_score")
	/* 90106: a spreadsheet formula that runs a program through DDE
	 * (=cmd|' /C calc'!A0, +MSEXCEL|'...'!''), opening a cell: at a line
	 * start or after a comma, semicolon, tab or quote (a CSV field); the
	 * topic quoted right after the pipe, up to the line's last "'!" (the
	 * "|'" literal keeps the scan cheap: "| '" cost 0.5k instructions a
	 * request of the bench sample). */
	"SecRule ARGS \"@rx (?:^|[\\r\\n,;\\t\\\"'])\\s*[=+\\-@][^\\r\\n|]*\\w\\|'[^\\r\\n]*'\\s*!\" "
	G6_ACT("90106", "", "Spreadsheet formula running a program (DDE)", "attack-rce", "rce_score")
	/* 90107: a command path written in "?" wildcards ("/???/c?t
	 * /???/p??s??"): a first directory of "?" only, then a name with one,
	 * after a line start, a space or a shell separator.  Not the star: a
	 * double star directory is a glob of config fields (.gitignore). */
	"SecRule ARGS \"@rx (?:^|[\\s;|&`(<>])/\\?+/[\\w.\\-]*\\?\" "
	G6_ACT("90107", "", "Command path obfuscated with wildcards", "attack-rce", "rce_score")
	/* 90108: SQL in a sort parameter (sort, order, sort_by, orderBy,
	 * OData's $orderby ...): an ORDER BY takes no bound parameter, so an
	 * application splices the value in, and the blind injections there
	 * are a subquery or a CASE ("price,(select case when ... then 1 else
	 * 1/0 end)"), a delay, or an XML error function.  A sort key never
	 * holds "case when ... then", "(select ... from" or "sleep(". */
	"SecRule ARGS:'/(?i)(?:^|[.\\[])\\$?(?:sort|order)(?:_?by|_?field|_?order)?\\]?$/' "
	"\"@rx \\bcase\\s+when\\b[^\\r\\n]*?\\bthen\\b|\\(\\s*select\\b[^)]*\\bfrom\\b|\\bunion\\s+(?:all\\s+)?select\\b|"
	"\\b(?:sleep|pg_sleep|benchmark|extractvalue|updatexml)\\s*\\(|\\bwaitfor\\s+delay\\b|"
	";\\s*(?:drop|alter|create|delete|insert|update|truncate|exec|execute|declare|shutdown|grant|select)\\b\" "
	G6_ACT("90108", ",t:urlDecodeUni,t:lowercase", "SQL injection in a sort parameter", "attack-sqli",
	       "sql_injection_score")
	/* 90109 (thirteenth round): a shell command substitution in
	 * backticks in a query-string argument, glued to the word before it
	 * or opening the value: "file=ext-local`id`.conf", "fmt=gpx`id`"
	 * (holdout18-19), a command word of the short list below right after
	 * the opening backtick and a closing one within 128 characters.
	 * 932100-932115 need a longer word or a separator; 90036 reads a few
	 * parameter names.  A Markdown code span in a search has a space
	 * before it ("set the `id` field"); a MySQL identifier quoted in
	 * backticks has a dot or a comma before it ("t.`id`"). */
	"SecRule ARGS_GET \"@rx (?:^|[\\w-])`\\s*(?:id|whoami|uname|cat|ls|wget|curl|nc|ncat|bash|sh|python[23]?|"
	"perl|php|ruby|ping|nslookup|sleep|echo|env|pwd|hostname|ifconfig|rm|touch|chmod|base64)\\b[^`]{0,128}`\" "
	G6_ACT("90109", "", "Command substitution in backticks in a query argument", "attack-rce", "rce_score")
	/* 90110 (thirteenth round): a client-side template injection that
	 * reaches the Function constructor: "constructor.constructor" (or
	 * constructor['constructor']) anywhere, or a template expression
	 * ("{{ ... }}") that calls a .constructor(...): AngularJS's sandbox
	 * escapes ({{constructor.constructor('alert(1)')()}}, $on.constructor),
	 * Vue's ({{_c.constructor('...')()}}).  Mustache and Handlebars
	 * templates read fields, they call no constructor. */
	"SecRule ARGS \"@rx \\bconstructor\\s*(?:\\.|\\[\\s*[\\\"'`])\\s*constructor\\b|"
	"\\{\\{[^}]{0,256}\\.\\s*constructor\\s*\\(\" "
	G6_ACT("90110", ",t:urlDecodeUni,t:jsDecode", "Template injection reaching the Function constructor", "attack-xss", "xss_score");
#undef G6_ACT
#undef SSRF_ACT
#undef SSRF_ODD_HOST
#undef SSRF_N
#undef SSRF_META_IP
#undef SSRF_URL
#undef SSRF_UI
#undef SSRF_WEB
#undef SSRF_SCHEME
#undef SSRF_CTX

/* The defaults that stand in for CRS rules on free-text fields (D8-D10):
 * each is those rules for those fields, so an `exclude` naming one of them
 * (or a range covering it) removes the stand-in too.  942140, 942190,
 * 942350 and 942360 have none on free-text fields: 90032 is
 * libinjection's (942100).  90037 is 942190's on GraphQL documents (D15). */
static const struct {
	int id;
	int crs[7];		/* 0-terminated */
} standins[] = {
	{ 90032, { 942100 } },
	{ 90033, { 941100, 941160, 941180 } },
	{ 90034, { 932100, 932105, 932110, 932115, 932150, 932160 } },
	{ 90035, { 930120 } },
	{ 90036, { 932100, 932105, 932110, 932115, 932150, 932160 } },
	{ 90037, { 942190 } },
	{ 90038, { 942100 } },
	{ 90039, { 941100, 941160, 941180 } },
	{ 90040, { 932100, 932105, 932110, 932115, 932150, 932160 } },
	{ 90041, { 930120 } },
	{ 90042, { 942190 } },
	{ 90043, { 941120 } },
	{ 90044, { 941180 } },
	{ 90045, { 942190 } },
	{ 90046, { 942360 } },
	{ 90047, { 933210 } },
	{ 90048, { 942100 } },
	{ 90049, { 932130 } },
	{ 90050, { 932130 } },
	{ 90051, { 944130 } },
	{ 90055, { 942140 } },
	{ 90058, { 921110 } },
	{ 90059, { 921130 } },
	{ 90063, { 921120 } },
	{ 90069, { 942100 } },
	{ 90084, { 942100 } },
	{ 90085, { 941310 } },
	{ 90089, { 942100 } },
	{ 90091, { 942100 } },
	{ 90093, { 942100 } },
};

int waf_crs_standins(const char *spec, int *out, int max)
{
	char *end;
	long lo = strtol(spec, &end, 10), hi = lo;
	int n = 0;

	if (end == spec)
		return 0;
	if (*end == '-') {
		const char *s = end + 1;
		hi = strtol(s, &end, 10);
		if (end == s)
			return 0;
	}
	if (*end)
		return 0;
	for (size_t i = 0; i < sizeof(standins) / sizeof(standins[0]) && n < max; i++) {
		if (standins[i].id >= lo && standins[i].id <= hi)
			continue;	/* removed by the exclusion itself */
		for (int k = 0; k < 7 && standins[i].crs[k]; k++)
			if (standins[i].crs[k] >= lo && standins[i].crs[k] <= hi) {
				out[n++] = standins[i].id;
				break;
			}
	}
	return n;
}
