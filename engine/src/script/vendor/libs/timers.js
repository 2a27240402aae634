var t=globalThis;["setTimeout","clearTimeout","setInterval","clearInterval","setImmediate","clearImmediate"].forEach(function(e){exports[e]=function(){return t[e].apply(t,arguments)}});
