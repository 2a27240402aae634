"use strict";function t(r){return Buffer.from(r,"base64").toString("binary")}module.exports=t.atob=t;
