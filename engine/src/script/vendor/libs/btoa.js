(function(){"use strict";function n(f){var e;return f instanceof Buffer?e=f:e=Buffer.from(f.toString(),"binary"),e.toString("base64")}module.exports=n})();
