var t=require("xml2js"),n={explicitArray:!1,async:!1,trim:!0,mergeAttrs:!1};module.exports=function(e){var r={};return t.parseString(e,n,function(i,s){r=s}),r};
