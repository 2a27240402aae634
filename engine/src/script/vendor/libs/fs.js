module.exports={};
